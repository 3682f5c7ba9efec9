/* Sanitizer and valgrind hooks for stack switching; each compiles to nothing in plain builds. */
#ifndef UA_SAN_H
#define UA_SAN_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define UA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UA_ASAN 1
#endif
#endif

#ifdef UA_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define ua_san_start_switch(fake, bottom, size)  __sanitizer_start_switch_fiber(fake, bottom, size)
#define ua_san_finish_switch(fake, bottom, size) __sanitizer_finish_switch_fiber(fake, bottom, size)
#define ua_san_unpoison(addr, size)              __asan_unpoison_memory_region(addr, size)
#else
#define ua_san_start_switch(fake, bottom, size)  ((void)(fake), (void)(bottom), (void)(size))
#define ua_san_finish_switch(fake, bottom, size) ((void)(fake), (void)(bottom), (void)(size))
#define ua_san_unpoison(addr, size)              ((void)(addr), (void)(size))
#endif

#if defined(__SANITIZE_THREAD__)
#define UA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UA_TSAN 1
#endif
#endif

#ifdef UA_TSAN
/* TSan must know which fiber runs, or it sees one thread's stacks change under it. */
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#define ua_tsan_current()  __tsan_get_current_fiber()
#define ua_tsan_create()   __tsan_create_fiber(0)
#define ua_tsan_destroy(f) __tsan_destroy_fiber(f)
#define ua_tsan_switch(f)  __tsan_switch_to_fiber(f, 0)
#else
#define ua_tsan_current()  ((void *)0)
#define ua_tsan_create()   ((void *)0)
#define ua_tsan_destroy(f) ((void)(f))
#define ua_tsan_switch(f)  ((void)(f))
#endif

/* LSan does not scan mmap'd memory, so a heap block referenced only from a parked coroutine's
 * stack would be a false leak. Weak symbols: present with -fsanitize=address or leak. */
void __lsan_register_root_region(const void *p, size_t size) __attribute__((weak));
void __lsan_unregister_root_region(const void *p, size_t size) __attribute__((weak));

static inline void ua_san_root_add(const void *p, size_t size)
{
    if (__lsan_register_root_region)
        __lsan_register_root_region(p, size);
}

static inline void ua_san_root_del(const void *p, size_t size)
{
    if (__lsan_unregister_root_region)
        __lsan_unregister_root_region(p, size);
}

#ifdef UA_VALGRIND
#include <valgrind/valgrind.h>
#define ua_vg_stack_register(lo, hi) VALGRIND_STACK_REGISTER(lo, hi)
#define ua_vg_stack_deregister(id)   VALGRIND_STACK_DEREGISTER(id)
#else
#define ua_vg_stack_register(lo, hi) ((void)(lo), (void)(hi), 0u)
#define ua_vg_stack_deregister(id)   ((void)(id))
#endif

#endif /* UA_SAN_H */
