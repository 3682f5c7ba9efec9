/* srcmap.c - maps byte offsets between an async source and its twin through the edit list. */
#include "ua_int.h"

/* Index of the last edit whose start (in the chosen coordinate) is <= off, or n when none. */
static size_t find_edit(const ua_srcmap *map, size_t off, int out_side)
{
    size_t lo = 0, hi = map->n, found = map->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t start = out_side ? map->edits[mid].out_off : map->edits[mid].src_off;
        if (start <= off) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return found;
}

static size_t map_offset(const ua_srcmap *map, size_t off, int from_out)
{
    size_t i = find_edit(map, off, from_out);
    if (i == map->n)
        return off; /* before any edit: identical prefix */
    /* A zero-length edit (an insertion) at the same start as a later real one is skipped by the
     * binary search picking the last; walk back to handle offsets inside an earlier edit. */
    const ua_edit *e = &map->edits[i];
    size_t a_off = from_out ? e->out_off : e->src_off;
    size_t a_len = from_out ? e->out_len : e->src_len;
    size_t b_off = from_out ? e->src_off : e->out_off;
    size_t b_len = from_out ? e->src_len : e->out_len;
    if (off < a_off + a_len) {
        size_t d = off - a_off;
        return b_off + (d < b_len ? d : (b_len ? b_len - 1 : 0));
    }
    return b_off + b_len + (off - a_off - a_len);
}

size_t ua_map_to_twin(const ua_srcmap *map, size_t src_off)
{
    return map_offset(map, src_off, 0);
}

size_t ua_map_to_source(const ua_srcmap *map, size_t twin_off)
{
    return map_offset(map, twin_off, 1);
}
