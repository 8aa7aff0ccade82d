#include <stdint.h>
#include <stdlib.h>

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>

/*
 * BGZF blocks inflated by ISA-L's igzip, ~15 % less CPU than libdeflate per block on the x86 machines we
 * measured (bench/RESULTS.md). Built only where ISA-L's headers are installed (Debian's libisal-dev); the
 * reader falls back to bgzf_inflate.c's libdeflate path otherwise. Same contract as inflate_blocks there:
 * a list made by list_blocks, threads sharing the `next_block` counter, each block's size and CRC32 checked.
 */

#define BGZF_FOOTER 8

static inline uint16_t read_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/*
 * One thread's inflate state (~85 KB), initialised, or NULL when out of memory. isal_inflate_reset alone
 * leaves fields of a fresh state unset (a state from reused heap memory then fails blocks at random).
 */
void *isal_state_new(void)
{
    struct inflate_state *state = calloc(1, sizeof *state);
    if (state != NULL) {
        isal_inflate_init(state);
    }
    return state;
}

void isal_state_free(void *state) { free(state); }

/* Returns 0, or 1 + the index of the corrupt block this thread met (the others then stop). */
int64_t isal_inflate_blocks(void *state_memory, const uint8_t *compressed, const int64_t *starts,
                            const int64_t *out_starts, int64_t *next_block, int64_t last, uint8_t *out)
{
    struct inflate_state *state = state_memory;
    for (;;) {
        const int64_t i = __atomic_fetch_add(next_block, 1, __ATOMIC_RELAXED);
        if (i >= last) {
            return 0;
        }
        const uint8_t *block = compressed + starts[i];
        const int64_t header = 12 + read_u16(block + 10);
        const int64_t size = starts[i + 1] - starts[i];
        const uint32_t expected_crc = read_u32(block + size - 8);
        const uint32_t isize = read_u32(block + size - 4);
        uint8_t *target = out + out_starts[i];
        isal_inflate_reset(state);
        state->crc_flag = ISAL_DEFLATE;
        state->next_in = (uint8_t *)(block + header);
        state->avail_in = (uint32_t)(size - header - BGZF_FOOTER);
        state->next_out = target;
        state->avail_out = isize;
        const int status = isal_inflate(state);
        if (status != ISAL_DECOMP_OK || state->block_state != ISAL_BLOCK_FINISH || state->total_out != isize
            || crc32_gzip_refl(0, target, isize) != expected_crc) {
            __atomic_store_n(next_block, last, __ATOMIC_RELAXED);
            return i + 1;
        }
    }
}
