/* report_analysis.c - the "Analysis" lines of the terminal report: the
 * breaking point, the spike recovery and the soak drift (analysis.h says how
 * each is found; README "Analysis" says it for users). */
#include <stdio.h>

#include "report.h"

int report_has_analysis(const analysis_t *a)
{
    return a->ramp || a->ramp_short || a->spike || a->soak;
}

static void load(char *buf, size_t size, double v, const char *unit)
{
    snprintf(buf, size, "%.0f %s", v, unit);
}

void report_analysis(FILE *f, const analysis_t *a)
{
    char b1[32], b2[32], l[48];
    if (!report_has_analysis(a)) return;
    fputs("Analysis:\n", f);
    if (a->ramp || a->ramp_short) {
        fprintf(f, "  Breaking point (load rising to %.0f %s):\n", a->max_load, a->load_unit);
        if (a->ramp_short) {
            fputs("    not enough data: the rising part is too short for a verdict\n", f);
        } else {
            if (a->latency.found) {
                load(l, sizeof l, a->latency.load, a->load_unit);
                fprintf(f, "    latency   p%d above %.0fx its baseline (%s -> %s) at %s, %u s into the run\n",
                        a->pct, ANALYSIS_LATENCY_K, report_time_us(b1, sizeof b1, a->latency.before),
                        report_time_us(b2, sizeof b2, a->latency.after), l, a->latency.second);
            } else {
                fprintf(f, "    latency   stayed within %.0fx its baseline p%d (%s)\n", ANALYSIS_LATENCY_K, a->pct,
                        report_time_us(b1, sizeof b1, a->base_p));
            }
            if (a->failures.found) {
                load(l, sizeof l, a->failures.load, a->load_unit);
                fprintf(f, "    failures  above %.0f%% (%.2f%% -> %.2f%%) at %s, %u s into the run\n",
                        ANALYSIS_FAIL_RATE * 100, a->failures.before * 100, a->failures.after * 100, l,
                        a->failures.second);
            } else {
                fprintf(f, "    failures  stayed at or below %.0f%%\n", ANALYSIS_FAIL_RATE * 100);
            }
            if (a->knee.found) {
                load(l, sizeof l, a->knee.load, a->load_unit);
                fprintf(f, "    knee      throughput stops growing at about %s (plateau %.0f ok req/s; "
                        "%.1f -> %.1f per unit of load), seen %u s into the run\n",
                        l, a->plateau, a->knee.before, a->knee.after, a->knee.second);
            } else {
                fputs("    knee      successful throughput kept growing with the load\n", f);
            }
        }
    }
    if (a->spike) {
        fprintf(f, "  Spike to %.0f %s (from %.0f) at %u s, back down at %u s:\n", a->spike_load, a->load_unit,
                a->base_load, a->spike_start, a->spike_end);
        if (a->spike_short)
            fputs("    not enough data: too few seconds before or after the spike\n", f);
        else if (a->recovered)
            fprintf(f, "    recovered %.0f s after the spike (p%d %s before, worst %s; failures %.2f%% before, "
                    "worst %.2f%%)\n", a->recovery_s, a->pct, report_time_us(b1, sizeof b1, a->pre_p),
                    report_time_us(b2, sizeof b2, a->peak_p), a->pre_fail * 100, a->peak_fail * 100);
        else
            fprintf(f, "    not recovered by the end of the run (p%d %s before, worst %s; failures %.2f%% "
                    "before, worst %.2f%%)\n", a->pct, report_time_us(b1, sizeof b1, a->pre_p),
                    report_time_us(b2, sizeof b2, a->peak_p), a->pre_fail * 100, a->peak_fail * 100);
    }
    if (a->soak) {
        int drift = a->p_drift > ANALYSIS_DRIFT || a->p_drift < -ANALYSIS_DRIFT ||
                    a->ok_drift > ANALYSIS_DRIFT || a->ok_drift < -ANALYSIS_DRIFT;
        fprintf(f, "  Soak: first vs last 10%%: p%d %s -> %s (%+.0f%%), ok req/s %.0f -> %.0f (%+.0f%%): %s\n", a->pct,
                report_time_us(b1, sizeof b1, a->first_p), report_time_us(b2, sizeof b2, a->last_p),
                a->p_drift * 100, a->first_ok, a->last_ok, a->ok_drift * 100,
                !drift ? "stable"
                : a->p_drift > ANALYSIS_DRIFT && a->ok_drift < -ANALYSIS_DRIFT ? "degraded (slower and fewer)"
                : a->p_drift > ANALYSIS_DRIFT ? "latency drifted up"
                : a->ok_drift < -ANALYSIS_DRIFT ? "throughput drifted down"
                : "changed (faster)");
    }
}
