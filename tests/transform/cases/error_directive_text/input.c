#ifndef HAVE_LOOP
#error async_sleep_ms isn't available without a loop
#endif
