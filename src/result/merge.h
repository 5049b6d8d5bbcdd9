/* merge.h - `barrage merge`: a program over JSON results
 * (src/result/result.schema.json) rather than over a network. Like serve.h,
 * it is a program of its own: it prints its output and its one-line errors,
 * and returns the process exit code.
 *
 * merge FILE...   one result of the same schema on stdout (or -o FILE):
 *   counters, errors, checks, per-name counts summed; every distribution
 *   merged bucket by bucket (exact percentiles, mean, stdev, min, max: the
 *   inputs are rebuilt losslessly, result.h); series merged by wall-clock
 *   second (counts summed, per-second p50/p90/p99 the request-weighted mean
 *   of the inputs': an approximation; max exact); duration from the earliest
 *   start to the latest end; stages merged by index (exact); the inputs'
 *   thresholds kept, each once, and evaluated on the merged numbers;
 *   config and host from the first input plus config.merged_from and
 *   host.hosts. Shards of one fleet run (--shard I/N) are checked: missing,
 *   repeated or of different fleets, or started apart, each a warning.
 */
#ifndef BARRAGE_MERGE_H
#define BARRAGE_MERGE_H

/* `barrage merge [-o FILE] A.json B.json...`; argv[0] is "merge". Returns 0,
 * 1 when the output cannot be written, 2 on a usage error or an unreadable or
 * invalid input (one line on stderr naming the file and the problem).
 * Configuration differences (url, method, rate, script) are warned about on
 * stderr, one line each. */
int merge_main(int argc, char **argv);

#endif
