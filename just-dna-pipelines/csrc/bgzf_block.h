/*
 * One BGZF block of a list made by list_blocks (bgzf_inflate.c), as both inflaters see it: where its deflate
 * data is, what its footer promises (CRC32 and uncompressed size) and where its output goes. Threads share
 * the list through one counter: each takes the next block not taken yet (claim_block), and a thread that
 * meets a corrupt block moves the counter to the end (stop_claims) so the others stop at their next block.
 */
#ifndef BGZF_BLOCK_H
#define BGZF_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#define BGZF_FOOTER 8

static inline uint16_t read_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

struct bgzf_block {
    int64_t index;         /* its place in the list */
    const uint8_t *deflate; /* the raw deflate data */
    size_t deflate_size;
    uint32_t crc;          /* the CRC32 its footer gives for the uncompressed data */
    uint32_t isize;        /* the uncompressed size its footer gives */
    uint8_t *target;       /* where its uncompressed data goes */
};

/* Take the next block of the list into *block; 0 when the list is done (or stopped). */
static inline int claim_block(const uint8_t *compressed, const int64_t *starts, const int64_t *out_starts,
                              int64_t *next_block, int64_t last, uint8_t *out, struct bgzf_block *block)
{
    const int64_t i = __atomic_fetch_add(next_block, 1, __ATOMIC_RELAXED);
    if (i >= last) {
        return 0;
    }
    const uint8_t *start = compressed + starts[i];
    const int64_t header = 12 + read_u16(start + 10);
    const int64_t size = starts[i + 1] - starts[i];
    block->index = i;
    block->deflate = start + header;
    block->deflate_size = (size_t)(size - header - BGZF_FOOTER);
    block->crc = read_u32(start + size - 8);
    block->isize = read_u32(start + size - 4);
    block->target = out + out_starts[i];
    return 1;
}

/* A corrupt block: the other threads stop at their next claim. Returns 1 + its index (the callers' result). */
static inline int64_t stop_claims(int64_t *next_block, int64_t last, const struct bgzf_block *block)
{
    __atomic_store_n(next_block, last, __ATOMIC_RELAXED);
    return block->index + 1;
}

#endif
