#include <stdint.h>
#include <stdlib.h>

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>

#include "bgzf_block.h"

/*
 * BGZF blocks inflated by ISA-L's igzip, ~15 % less CPU than libdeflate per block on the x86 machines we
 * measured (bench/RESULTS.md). Built only where ISA-L's headers are installed (Debian's libisal-dev); the
 * reader falls back to bgzf_inflate.c's libdeflate path otherwise. Same contract as inflate_blocks there:
 * a list made by list_blocks, threads sharing the `next_block` counter (bgzf_block.h), each block's size and
 * CRC32 checked.
 */

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
    struct bgzf_block block;
    while (claim_block(compressed, starts, out_starts, next_block, last, out, &block)) {
        isal_inflate_reset(state);
        state->crc_flag = ISAL_DEFLATE;
        state->next_in = (uint8_t *)block.deflate;
        state->avail_in = (uint32_t)block.deflate_size;
        state->next_out = block.target;
        state->avail_out = block.isize;
        const int status = isal_inflate(state);
        if (status != ISAL_DECOMP_OK || state->block_state != ISAL_BLOCK_FINISH || state->total_out != block.isize
            || crc32_gzip_refl(0, block.target, block.isize) != block.crc) {
            return stop_claims(next_block, last, &block);
        }
    }
    return 0;
}
