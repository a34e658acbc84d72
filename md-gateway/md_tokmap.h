/*  md_tokmap - instrument token -> index, a fixed open-addressing table.
 *
 *  Used by md.c (universe lookups per packet) and md_bar.c (per tick). Sized once for
 *  at most capacity tokens (kept at most half full); no heap after md_tokmap_init. */

#ifndef MD_TOKMAP_H
#define MD_TOKMAP_H

#include <stddef.h>
#include <stdint.h>

struct md_tokmap_slot {
    uint32_t token;
    uint32_t index1; //  index + 1; 0 = empty
};

struct md_tokmap {
    struct md_tokmap_slot *slots; //  owned
    size_t mask;
    size_t count, capacity;
};

//  Allocate for capacity tokens. Returns 0 (aborts on OOM).
int md_tokmap_init (struct md_tokmap *self, size_t capacity);

//  Free the slots. Safe on a zeroed map.
void md_tokmap_free (struct md_tokmap *self);

//  Map token to index (a token already present gets the new index). Returns 0, or -1
//  when capacity tokens are already in.
int md_tokmap_put (struct md_tokmap *self, uint32_t token, uint32_t index);

//  The index of token, or -1 if absent (or the map is empty/unallocated).
static inline int64_t
md_tokmap_get (const struct md_tokmap *self, uint32_t token)
{
    if (!self->slots)
        return -1;
    for (size_t i = (token * 2654435761u) & self->mask;; i = (i + 1) & self->mask) {
        if (self->slots[i].index1 == 0)
            return -1;
        if (self->slots[i].token == token)
            return (int64_t) self->slots[i].index1 - 1;
    }
}

#endif
