/*  md_tokmap - token -> index (see md_tokmap.h). */

#include "md_tokmap.h"

#include <stdlib.h>

int
md_tokmap_init (struct md_tokmap *self, size_t capacity)
{
    size_t slots = 16;
    while (slots < capacity * 2)
        slots *= 2;
    self->slots = calloc (slots, sizeof *self->slots);
    if (!self->slots)
        abort ();
    self->mask = slots - 1;
    self->count = 0;
    self->capacity = capacity;
    return 0;
}

void
md_tokmap_free (struct md_tokmap *self)
{
    free (self->slots);
    self->slots = NULL;
}

int
md_tokmap_put (struct md_tokmap *self, uint32_t token, uint32_t index)
{
    size_t i = (token * 2654435761u) & self->mask;
    for (; self->slots[i].index1; i = (i + 1) & self->mask)
        if (self->slots[i].token == token) {
            self->slots[i].index1 = index + 1;
            return 0;
        }
    if (self->count == self->capacity)
        return -1;
    self->slots[i].token = token;
    self->slots[i].index1 = index + 1;
    self->count++;
    return 0;
}
