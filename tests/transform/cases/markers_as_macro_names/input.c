#ifndef async
#define async
#endif
#ifdef await
#undef await
#endif
#if defined(async)
#endif
