/* The language server on stdio, built for the benchmarks (the CLI's --stdio runs the same).
 * --no-precheck switches the idle pre-check off, so that no save finds its work done. */
#include "server.h"

#include <string.h>

int main(int argc, char **argv)
{
    return srv_run_stdio_precheck(!(argc > 1 && strcmp(argv[1], "--no-precheck") == 0));
}
