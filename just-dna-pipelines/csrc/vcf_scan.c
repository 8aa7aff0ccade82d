/*
 * One pass over decompressed VCF text: line bounds, record counts, and the records that may overlap
 * chosen sites, so a whole genome needs no index to be read at its module sites.
 *
 * A plain C function (no Python API) loaded with ctypes by just_dna_pipelines/bam/native.py, so the
 * call releases the GIL. Python keeps the state between calls (vcf_scan_state, mirrored by a ctypes
 * Structure in just_dna_pipelines/io/vcf_site_scan.py) and handles what is rare: a new contig (it
 * points `sites` at that contig's positions), a full output buffer, and the end of the file.
 *
 * Which records are kept: every record whose span may reach a site, a superset of what htslib's region
 * query returns (REF's length, widened by INFO END and SVLEN when the header declares them). The caller
 * runs the same region query over the kept records, so the final answer is htslib's own.
 * A line this pass does not read the way the full reader does (a "#" line among the records, a blank line
 * in the header, a Windows line ending, an empty field, a wrong number of columns, a position that is not
 * a plain number) stops
 * the pass, as do records out of order: the caller then reads the file the slow, general way.
 */
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum {
    SCAN_NEED_DATA = 0,   /* every complete line is consumed; *offset is where the open line starts */
    SCAN_NEW_CONTIG = 1,  /* the record at *offset names another contig than `contig` */
    SCAN_OUT_FULL = 2,    /* the record at *offset is kept but `out` has no room for it */
    SCAN_UNUSUAL = 3,     /* the line at *offset is not read the way the full reader reads it */
    SCAN_LINE_TOO_LONG = -1,
};

typedef struct {
    int64_t lines;        /* lines ended so far: header, blank and record lines */
    int64_t blank_lines;
    int64_t records;      /* record lines */
    int64_t in_records;   /* 1 once the first record line is met (the header is over) */
    int64_t max_line;     /* the longest line allowed, in bytes without its newline */
    int64_t columns;      /* fields every record has: 9 + samples */
    int64_t use_end;      /* the header declares INFO END: it sets a record's span */
    int64_t use_svlen;    /* the header declares INFO SVLEN: it may set a symbolic allele's span */
    const uint8_t *contig; /* the current contig's name, as the records spell it */
    int64_t contig_len;
    const int64_t *sites; /* the current contig's site positions (1-based), ascending */
    int64_t n_sites;
    int64_t cursor;       /* the first site not below the previous record's position */
    int64_t last_pos;     /* the previous record's position (records must come in order) */
    uint8_t *out;         /* kept record lines, each with its newline */
    int64_t out_len;
    int64_t out_cap;
} vcf_scan_state;

/* A plain decimal of 1-18 digits, or -1. */
static int64_t parse_position(const uint8_t *p, const uint8_t *end)
{
    if (p == end || end - p > 18) {
        return -1;
    }
    int64_t value = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') {
            return -1;
        }
        value = value * 10 + (*p - '0');
    }
    return value;
}

/* The largest absolute integer in a comma-separated list (stops at the first non-number). */
static int64_t largest_abs(const uint8_t *p, const uint8_t *end)
{
    int64_t best = 0;
    while (p < end) {
        if (*p == '-' || *p == '+') {
            p++;
        }
        int64_t value = 0;
        int digits = 0;
        while (p < end && *p >= '0' && *p <= '9' && digits < 18) {
            value = value * 10 + (*p++ - '0');
            digits++;
        }
        if (!digits) {
            break;
        }
        if (value > best) {
            best = value;
        }
        if (p < end && *p == ',') {
            p++;
        } else {
            break;
        }
    }
    return best;
}

/* How far INFO END / SVLEN may stretch a record starting at pos (0 when they do not). */
static int64_t info_span_end(const vcf_scan_state *s, const uint8_t *info, const uint8_t *end, int64_t pos)
{
    int64_t reach = 0;
    for (const uint8_t *key = info; key < end;) {
        const uint8_t *semi = memchr(key, ';', (size_t)(end - key));
        if (!semi) {
            semi = end;
        }
        if (s->use_end && semi - key > 4 && memcmp(key, "END=", 4) == 0) {
            const int64_t value = largest_abs(key + 4, semi);
            if (value > reach) {
                reach = value;
            }
        } else if (s->use_svlen && semi - key > 6 && memcmp(key, "SVLEN=", 6) == 0) {
            const int64_t value = pos + largest_abs(key + 6, semi);
            if (value > reach) {
                reach = value;
            }
        }
        key = semi + 1;
    }
    return reach;
}

/* Bit i set where p[i] is a tab or a newline, for the 16 bytes at p (SSE2: x86-64 always has it). */
static inline uint32_t delimiters16(const uint8_t *p)
{
#if defined(__SSE2__)
    const __m128i bytes = _mm_loadu_si128((const __m128i *)p);
    const __m128i tabs = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\t'));
    const __m128i newlines = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\n'));
    return (uint32_t)_mm_movemask_epi8(_mm_or_si128(tabs, newlines));
#else
    uint32_t bits = 0;
    for (int i = 0; i < 16; i++) {
        bits |= (uint32_t)(p[i] == '\t' || p[i] == '\n') << i;
    }
    return bits;
#endif
}

/*
 * Split the line at `line` into fields: the start of the first ten in field[], the number of fields in
 * *columns, and 1 in *empty if any field is empty. Returns the line's newline, or NULL when the line does
 * not end before `end` (it goes on in the next buffer).
 */
static inline const uint8_t *split_line(const uint8_t *line, const uint8_t *end, const uint8_t **field,
                                        int64_t *columns, int *empty)
{
    int64_t count = 1;
    const uint8_t *start = line; /* where the current field starts */
    field[0] = line;
    *empty = 0;
    for (const uint8_t *block = line; block < end; block += 16) {
        uint32_t bits;
        if (end - block >= 16) {
            bits = delimiters16(block);
        } else {
            bits = 0;
            for (int i = 0; i < end - block; i++) {
                bits |= (uint32_t)(block[i] == '\t' || block[i] == '\n') << i;
            }
        }
        while (bits) {
            const uint8_t *at = block + __builtin_ctz(bits);
            bits &= bits - 1;
            *empty |= at == start;
            if (*at == '\n') {
                *columns = count;
                return at;
            }
            if (count < 10) {
                field[count] = at + 1;
            }
            count++;
            start = at + 1;
        }
    }
    return 0;
}

/*
 * Scan the complete lines of buf[*offset, length). Returns one of the SCAN_ codes; *offset is then the
 * start of the line the code is about (or of the open line, for SCAN_NEED_DATA). A line is counted
 * only once it is fully handled, so the caller may call again from *offset after acting on the code.
 */
int vcf_scan(const uint8_t *buf, int64_t length, int64_t *offset, vcf_scan_state *s)
{
    const uint8_t *const end = buf + length;
    int64_t at = *offset;
    while (at < length) {
        const uint8_t *line = buf + at;
        *offset = at;
        if (line[0] == '#' || line[0] == '\n') {
            const uint8_t *newline = memchr(line, '\n', (size_t)(length - at));
            if (!newline) {
                break;
            }
            const int64_t len = newline - line;
            if (len > s->max_line) {
                return SCAN_LINE_TOO_LONG;
            }
            if (len == 0) {
                if (!s->in_records) {
                    return SCAN_UNUSUAL; /* a blank line inside the header */
                }
                s->blank_lines++;
            } else if (s->in_records) {
                return SCAN_UNUSUAL; /* a "#" line among the records */
            }
            s->lines++;
            at += len + 1;
            continue;
        }
        const uint8_t *field[10];
        int64_t columns;
        int empty;
        const uint8_t *newline = split_line(line, end, field, &columns, &empty);
        if (!newline) {
            return end - line > s->max_line ? SCAN_LINE_TOO_LONG : SCAN_NEED_DATA;
        }
        const int64_t len = newline - line;
        if (len > s->max_line) {
            return SCAN_LINE_TOO_LONG;
        }
        s->in_records = 1; /* a whole record line: the header is over */
        if (empty || newline[-1] == '\r' || columns != s->columns) {
            return SCAN_UNUSUAL; /* an empty field, a Windows line ending, or a wrong number of columns */
        }
        const int64_t chrom_len = field[1] - 1 - line;
        if (chrom_len != s->contig_len || memcmp(line, s->contig, (size_t)chrom_len) != 0) {
            return SCAN_NEW_CONTIG;
        }
        const int64_t pos = parse_position(field[1], field[2] - 1);
        if (pos < 0 || pos < s->last_pos) {
            return SCAN_UNUSUAL; /* not a plain position, or records out of order (no index could be built) */
        }
        s->last_pos = pos;
        int keep = 0;
        if (s->n_sites) {
            int64_t c = s->cursor;
            while (c < s->n_sites && s->sites[c] < pos) {
                c++;
            }
            s->cursor = c;
            if (c < s->n_sites) {
                const int64_t site = s->sites[c];
                const int64_t ref_len = field[4] - 1 - field[3];
                keep = site <= pos + ref_len - 1;
                if (!keep && (s->use_end || s->use_svlen)) {
                    keep = site <= info_span_end(s, field[7], field[8] - 1, pos);
                }
            }
        }
        if (keep) {
            if (s->out_len + len + 1 > s->out_cap) {
                return SCAN_OUT_FULL;
            }
            memcpy(s->out + s->out_len, line, (size_t)len + 1);
            s->out_len += len + 1;
        }
        s->lines++;
        s->records++;
        at += len + 1;
    }
    *offset = at;
    return SCAN_NEED_DATA;
}
