/*
 * Per-chunk read statistics over records that htslib decodes (CRAM and SAM), in one call per many reads.
 *
 * htslib is loaded by Python (just_dna_pipelines/bam/htslib.py) and its sam_read1 is passed in, so
 * building this file needs no htslib headers and the call releases the GIL. The rows are chunk_scan.c's
 * (chunk_rows.h), so both feed the same Python code.
 *
 * Only the head of htslib's bam1_t is read: its bam1_core_t, whose layout is fixed by the libhts.so.3
 * ABI (htslib >= 1.10): pos (int64) at 0, tid (int32) at 8, MAPQ (uint8) at 14, FLAG (uint16) at 16.
 */
#include <stdint.h>

#include "chunk_rows.h"

typedef int (*sam_read1_fn)(void *file, void *header, void *record);

typedef struct {
    int64_t pos;
    int32_t tid;
    uint16_t bin;
    uint8_t qual;
    uint8_t l_extranul;
    uint16_t flag;
} core_head;

/*
 * Read up to max_reads records with sam_read1 and accumulate them into rows of `out` (max_rows rows of
 * N_COLS int64s), row 0 being the chunk that read number *reads (0-based) falls in.
 *
 * Stops before reading a record whose chunk would need row max_rows, after max_reads records, or at the
 * end of the file. On return *reads is the number of reads seen in total and *rows the number of rows
 * touched (pos_min INT64_MAX and pos_max INT64_MIN mean "no mapped read"). Returns 0 when it stopped
 * early, 1 at the end of the file, or sam_read1's negative error code (< -1).
 */
int record_scan(sam_read1_fn read_record, void *file, void *header, void *record, int64_t *reads,
                int64_t chunk_size, int64_t max_reads, int64_t *out, int64_t max_rows, int64_t *rows)
{
    const core_head *core = (const core_head *)record;
    int64_t read_number = *reads;
    const int64_t first_read = read_number;
    const int64_t first_chunk = read_number / chunk_size;
    int64_t row_index = -1;
    int64_t in_chunk = 0; /* reads left before the current chunk ends */
    int64_t *row = 0;
    int status = 0;

    while (read_number - first_read < max_reads) {
        if (in_chunk == 0 && read_number / chunk_size - first_chunk >= max_rows) {
            break;
        }
        const int got = read_record(file, header, record);
        if (got < 0) {
            status = got == -1 ? 1 : got;
            break;
        }
        if (in_chunk == 0) {
            row_index = read_number / chunk_size - first_chunk;
            row = out + row_index * N_COLS;
            start_row(row);
            in_chunk = chunk_size - read_number % chunk_size;
        }
        add_read(row, core->tid, core->flag, core->pos, core->qual);
        read_number += 1;
        in_chunk -= 1;
    }
    *reads = read_number;
    *rows = row_index + 1;
    return status;
}
