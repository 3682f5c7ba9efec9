/* placeholder */ typedef int ua_sync_io_placeholder;
