/*
 * Per-chunk read statistics over decompressed BAM alignment records, in one pass over a buffer.
 *
 * A plain C function (no Python API), loaded with ctypes by just_dna_pipelines/bam/native.py, so the call releases the GIL
 * and the package needs no Python headers to use it. Python keeps the state between calls; this only
 * walks record boundaries and adds each record to the row of the chunk it belongs to.
 *
 * Record layout (SAM/BAM spec 4.2), offsets from the start of the record including its block_size:
 *   0 block_size (int32, bytes after this field), 4 refID (int32), 8 pos (int32, 0-based),
 *   13 MAPQ (uint8), 18 FLAG (uint16). The fixed part after block_size is 32 bytes.
 */
#include <stdint.h>

#include "chunk_rows.h"

#define MIN_BLOCK_SIZE 32

static inline int32_t read_i32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

/*
 * Walk the complete records of buf[*offset, length) and accumulate them into rows of `out`
 * (max_rows rows of N_COLS int64s), row 0 being the chunk that read number *reads (0-based) falls in.
 *
 * Stops at the first incomplete record or at the first record whose chunk would need row max_rows.
 * On return *offset is where the next record starts, *reads the number of reads seen in total, and
 * *rows the number of rows touched (rows are initialised here: pos_min INT64_MAX and pos_max INT64_MIN
 * mean "no mapped read"). Returns 0, or -1 for a record too short to be valid (*offset points at it).
 */
int chunk_scan(const uint8_t *buf, int64_t length, int64_t *offset, int64_t *reads, int64_t chunk_size,
               int64_t *out, int64_t max_rows, int64_t *rows)
{
    int64_t pos = *offset;
    int64_t read_number = *reads;
    const int64_t first_chunk = read_number / chunk_size;
    int64_t row_index = -1;
    int64_t in_chunk = 0; /* reads left before the current chunk ends */
    int64_t *row = 0;

    while (pos + 4 <= length) {
        const int32_t block_size = read_i32(buf + pos);
        if (block_size < MIN_BLOCK_SIZE) {
            *offset = pos;
            *reads = read_number;
            *rows = row_index + 1;
            return -1;
        }
        if (pos + 4 + (int64_t)block_size > length) {
            break;
        }
        if (in_chunk == 0) {
            const int64_t next_row = read_number / chunk_size - first_chunk;
            if (next_row >= max_rows) {
                break;
            }
            row_index = next_row;
            row = out + row_index * N_COLS;
            start_row(row);
            in_chunk = chunk_size - read_number % chunk_size;
        }
        const uint8_t *record = buf + pos;
        add_read(row, read_i32(record + 4), (uint16_t)(record[18] | (record[19] << 8)), read_i32(record + 8),
                 record[13]);
        read_number += 1;
        in_chunk -= 1;
        pos += 4 + (int64_t)block_size;
    }
    *offset = pos;
    *reads = read_number;
    *rows = row_index + 1;
    return 0;
}
