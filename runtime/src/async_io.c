/* placeholder */ typedef int ua_async_io_placeholder;
