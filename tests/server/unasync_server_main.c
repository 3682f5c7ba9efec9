/* A tiny executable running the language server on stdio, for the server's own tests. */
#include "server.h"

int main(void)
{
    return srv_run_stdio();
}
