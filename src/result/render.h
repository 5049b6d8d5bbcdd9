/* render.h - `barrage report`: any result file rendered again. Like merge.h,
 * a program of its own over JSON results (src/result/result.schema.json):
 * it prints its output and its one-line errors, and returns the exit code.
 *
 * report RESULT.json [--html F] [--csv PREFIX] [--json F] [--threshold EXPR]...
 *        [--latency]
 *   The file is read by result.c (the same checks and messages as merge and
 *   compare); its config becomes the options the run had, so the terminal
 *   report is the run's own (header, wrk-style report, stage table,
 *   thresholds), and --html/--csv write what the run's --html/--csv wrote.
 *   Thresholds: the file's own expressions, then those given, each once,
 *   evaluated again on the file's numbers (a merged fleet's are the merged
 *   numbers); a failing one exits 99 like a run. What a file cannot know is
 *   left out: the run's stderr lines, --latency (give it again), and the
 *   "Failed" line of a run that had --exit-on-failures but no failures.
 */
#ifndef BARRAGE_RENDER_H
#define BARRAGE_RENDER_H

/* `barrage report ...`; argv[0] is "report". Returns 0, 99 when a threshold
 * fails, 1 when an output cannot be written, 2 on a usage error or an
 * unreadable or invalid result (one line on stderr). */
int render_main(int argc, char **argv);

#endif
