#include <stddef.h>
#include <stdint.h>

#include "bgzf_block.h"

/*
 * BGZF decompression for local files, spread over threads by the caller: the Python threads of
 * just_dna_pipelines/bam/bgzf_parallel.py each call inflate_blocks on the same list of blocks, taking them
 * from a shared counter (the call releases the GIL). libdeflate is loaded by Python and its functions are passed in, so building this file needs no libdeflate headers.
 *
 * A BGZF block (SAM/BAM spec 4.1) is a gzip member with an extra subfield "BC" holding BSIZE (the
 * block's total size - 1); it ends with the CRC32 and the size (ISIZE) of its uncompressed data.
 */

typedef int (*deflate_decompress_fn)(void *decompressor, const void *in, size_t in_nbytes, void *out,
                                     size_t out_nbytes_avail, size_t *actual_out_nbytes_ret);
typedef uint32_t (*crc32_fn)(uint32_t crc, const void *buffer, size_t len);

#define BGZF_HEADER 18
#define BGZF_MAX_BLOCK 65536

/* The size of the BGZF block at p (length bytes available), 0 if incomplete, -1 if it is not BGZF. */
static int64_t block_size_at(const uint8_t *p, int64_t length)
{
    if (length < BGZF_HEADER) {
        return 0;
    }
    if (p[0] != 31 || p[1] != 139 || p[2] != 8 || !(p[3] & 4)) {
        return -1;
    }
    const int64_t xlen = read_u16(p + 10);
    int64_t bsize = -1;
    for (int64_t at = 12; at + 4 <= 12 + xlen && at + 4 <= length; ) {
        const uint16_t slen = read_u16(p + at + 2);
        if (p[at] == 'B' && p[at + 1] == 'C' && slen == 2 && at + 6 <= length) {
            bsize = (int64_t)read_u16(p + at + 4) + 1;
            break;
        }
        at += 4 + slen;
    }
    if (12 + xlen > length) {
        return 0;
    }
    if (bsize < 12 + xlen + BGZF_FOOTER) {
        return -1;
    }
    return bsize <= length ? bsize : 0;
}

/*
 * List the complete blocks at the start of compressed[0, length) whose data fits in out_capacity bytes:
 * their offsets in `starts` (max_blocks + 1 entries: the last one is where the listed blocks end) and the
 * running uncompressed offset of each in `out_starts` (max_blocks at most). Returns the number of blocks,
 * or -1 if the data is not BGZF. *used is the compressed bytes listed, *out_total their uncompressed size.
 */
int64_t list_blocks(const uint8_t *compressed, int64_t length, int64_t out_capacity, int64_t max_blocks,
                    int64_t *starts, int64_t *out_starts, int64_t *used, int64_t *out_total)
{
    int64_t at = 0, out = 0, count = 0;
    while (count < max_blocks) {
        const int64_t size = block_size_at(compressed + at, length - at);
        if (size < 0) {
            *used = at;
            *out_total = out;
            return -1;
        }
        if (size == 0) {
            break;
        }
        /* ISIZE never exceeds the 64 KiB block limit; more is corruption, not a big block. */
        const int64_t isize = read_u32(compressed + at + size - 4);
        if (isize > BGZF_MAX_BLOCK) {
            *used = at;
            *out_total = out;
            return -1;
        }
        if (out + isize > out_capacity) {
            break;
        }
        starts[count] = at;
        out_starts[count] = out;
        count += 1;
        at += size;
        out += isize;
    }
    starts[count] = at;
    *used = at;
    *out_total = out;
    return count;
}

/*
 * Inflate blocks of a list made by list_blocks into out, checking each block's size and CRC32, until the
 * list ends (`last`) or a block is corrupt. Every thread inflating the list calls this with the same
 * `next_block` counter (starting at the first block) and takes the next block from it, so threads that
 * get easier blocks take more of them and all finish together. Returns 0, or 1 + the index of the corrupt
 * block this thread met.
 */
int64_t inflate_blocks(deflate_decompress_fn decompress, crc32_fn crc32, void *decompressor,
                       const uint8_t *compressed, const int64_t *starts, const int64_t *out_starts,
                       int64_t *next_block, int64_t last, uint8_t *out)
{
    struct bgzf_block block;
    while (claim_block(compressed, starts, out_starts, next_block, last, out, &block)) {
        size_t got = 0;
        if (decompress(decompressor, block.deflate, block.deflate_size, block.target, block.isize, &got) != 0
            || got != block.isize || crc32(0, block.target, block.isize) != block.crc) {
            return stop_claims(next_block, last, &block);
        }
    }
    return 0;
}
