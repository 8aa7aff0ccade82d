/*
 * The per-chunk rows both C scanners fill (chunk_scan.c over BAM bytes, record_scan.c over htslib records):
 * N_COLS int64s per chunk, read back by just_dna_pipelines/bam/scan_native.py in this column order.
 */
#ifndef CHUNK_ROWS_H
#define CHUNK_ROWS_H

#include <stdint.h>

#define FLAG_UNMAPPED 0x4

/* Columns of one output row. */
enum { COL_TOTAL, COL_MAPPED, COL_MAPQ_SUM, COL_POS_MIN, COL_POS_MAX, COL_UNPLACED, N_COLS };

/* Zero a row; pos_min INT64_MAX and pos_max INT64_MIN mean "no mapped read". */
static inline void start_row(int64_t *row)
{
    row[COL_TOTAL] = row[COL_MAPPED] = row[COL_MAPQ_SUM] = row[COL_UNPLACED] = 0;
    row[COL_POS_MIN] = INT64_MAX;
    row[COL_POS_MAX] = INT64_MIN;
}

/* Count one read: ref_id < 0 is unplaced; position (0-based) and MAPQ count only when it is mapped. */
static inline void add_read(int64_t *row, int64_t ref_id, uint16_t flag, int64_t position0, uint8_t mapq)
{
    row[COL_TOTAL] += 1;
    if (ref_id < 0) {
        row[COL_UNPLACED] += 1;
    }
    if (!(flag & FLAG_UNMAPPED)) {
        const int64_t position = position0 + 1;
        row[COL_MAPPED] += 1;
        row[COL_MAPQ_SUM] += mapq;
        if (position < row[COL_POS_MIN]) {
            row[COL_POS_MIN] = position;
        }
        if (position > row[COL_POS_MAX]) {
            row[COL_POS_MAX] = position;
        }
    }
}

#endif
