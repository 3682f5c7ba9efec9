/* The language server on stdio, built for the benchmarks (the CLI's --stdio runs the same). */
#include "server.h"

int main(void)
{
    return srv_run_stdio();
}
