/* embed.c - build-time helper: writes a file's bytes as a C array (the built-in rule map). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s INPUT OUTPUT.c SYMBOL\n", argv[0]);
        return 2;
    }
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    if (!in || !out) {
        perror(!in ? argv[1] : argv[2]);
        return 1;
    }
    fprintf(out, "/* Generated from %s by transform/embed.c. */\n#include <stddef.h>\n", argv[1]);
    fprintf(out, "extern const char %s[];\nextern const size_t %s_len;\n", argv[3], argv[3]);
    fprintf(out, "const char %s[] = {", argv[3]);
    size_t n = 0;
    int c;
    while ((c = getc(in)) != EOF)
        fprintf(out, "%s0x%02x,", n++ % 16 ? "" : "\n    ", (unsigned)c);
    fprintf(out, "\n    0x00};\nconst size_t %s_len = %zu;\n", argv[3], n);
    if (ferror(in) || fclose(out) != 0) {
        fprintf(stderr, "%s: write failed\n", argv[2]);
        return 1;
    }
    fclose(in);
    return 0;
}
