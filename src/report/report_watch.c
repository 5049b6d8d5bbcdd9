/* report_watch.c - what the run watched besides the server's answers: the
 * target's processes (--monitor-pid/--monitor-cmd, procmon.h) and the
 * client's own threads (cpuload.h), in the live line, the terminal report
 * and the JSON result (report.h). The HTML chart is report_chart_target
 * (report_html_charts.c's neighbour, below). */
#include "report.h"
#include "report_html.h"
#include "result.h"
#include "svg_chart.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A compact size: "120M", "1.5G", "900K". */
static char *compact_bytes(char *b, size_t n, double v)
{
    if (v >= 1024.0 * 1024 * 1024) snprintf(b, n, "%.1fG", v / (1024.0 * 1024 * 1024));
    else if (v >= 1024.0 * 1024) snprintf(b, n, "%.0fM", v / (1024.0 * 1024));
    else snprintf(b, n, "%.0fK", v / 1024.0);
    return b;
}

void report_progress_targets(FILE *f, const procmon_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(f, ", target%s%s", n > 1 ? " " : "", n > 1 ? t[i].label : "");
        if (t[i].exited_s >= 0) fputs(" exited", f);
        else if (t[i].n) {
            const procmon_sample_t *s = &t[i].samples[t[i].n - 1];
            char r[32];
            fprintf(f, " cpu %.0f%% rss %s", s->cpu, compact_bytes(r, sizeof r, (double)s->rss));
        }
    }
    fflush(f);
}

static void row(FILE *f, const char *name, const procmon_range_t *r, svg_tick_fmt_t fmt, const char *extra)
{
    char a[32], b[32], c[32];
    fprintf(f, "    %-12s %10s %10s %10s%s\n", name, fmt(a, sizeof a, r->min), fmt(b, sizeof b, r->avg),
            fmt(c, sizeof c, r->max), extra);
}

static char *fmt_pct(char *b, size_t n, double v) { snprintf(b, n, "%.1f%%", v); return b; }
static char *fmt_num(char *b, size_t n, double v)
{
    if (v == floor(v)) snprintf(b, n, "%.0f", v);
    else snprintf(b, n, "%.1f", v);
    return b;
}

/* A constant -R run whose client sent at least 95% of the requests its
 * schedule asked for (requests written, so the last ones still in flight
 * at the end count): the client kept up, it did not limit the load. */
static int rate_reached(const config_t *c, const stats_t *s, uint64_t elapsed_ns)
{
    double secs = (double)elapsed_ns / 1e9;
    return c->rate > 0 && !c->stages.n && secs > 0 && (double)s->sent >= 0.95 * c->rate * secs;
}

static int bottleneck(const config_t *c, const stats_t *s, uint64_t elapsed_ns, const cpuload_t *client)
{
    return client && !rate_reached(c, s, elapsed_ns) ? cpuload_bottleneck(client) : -1;
}

void report_watch(FILE *f, const config_t *cfg, const stats_t *st, uint64_t elapsed_ns, const procmon_t *t,
                  size_t n, const cpuload_t *client)
{
    double window = procmon_leak_window();
    for (size_t i = 0; i < n; i++) {
        procmon_summary_t s;
        procmon_summarize(t[i].samples, t[i].n, window, &s);
        uint32_t procs = t[i].n ? t[i].samples[t[i].n - 1].procs : 0;
        fprintf(f, "  Target %s (%u process%s, %zu samples)\n    %-12s %10s %10s %10s\n", t[i].label, procs,
                procs == 1 ? "" : "es", s.n, "", "min", "avg", "max");
        if (s.n > 1) row(f, "CPU", &s.cpu, fmt_pct, "");
        char extra[64];
        snprintf(extra, sizeof extra, "   %+.1f MiB/h", s.rss_slope_mib_h);
        procmon_range_t rss = { s.rss.min, s.rss.avg, s.rss.max };
        row(f, "RSS", &rss, report_binary, s.n > 1 ? extra : "");
        row(f, "Open fds", &s.fds, fmt_num, "");
        row(f, "Threads", &s.threads, fmt_num, "");
        if (t[i].exited_s >= 0)
            fprintf(f, "  Target %s exited at %.0f s (the run went on)\n", t[i].label, t[i].exited_s);
        if (s.leak) {
            double growth = s.rss_slope_mib_h * s.span_s / 3600.0, start = (double)t[i].samples[0].rss;
            fprintf(f, "  WARNING: %s's RSS grew %.1f MiB in %.0f s (%+.1f MiB/h, %.0f%% of its start) and was still "
                       "growing at the end: a memory leak?\n", t[i].label, growth, s.span_s, s.rss_slope_mib_h,
                    start > 0 ? 100.0 * growth * 1024 * 1024 / start : 0.0);
        }
    }
    int b = bottleneck(cfg, st, elapsed_ns, client);
    if (b >= 0) {
        const cpuload_thread_t *th = &client->t[b];
        double busy = cpuload_mean(th), cpu = cpuload_cpu_mean(th);
        fprintf(f, "  WARNING: the client was the bottleneck: thread %d was >= %.0f%% busy in %u of %u s (mean %.0f%%, "
                   "%.0f%% on a CPU); use more threads (-t), another machine, or split the load with --shard\n",
                b, CPULOAD_BUSY_PCT, th->busy_seconds, th->seconds, busy, cpu);
        if (busy - cpu > cpu) /* mostly ready to run, but on no CPU */
            fprintf(f, "  (it spent more time waiting for a CPU than on one: other processes compete for this "
                       "machine's CPUs)\n");
    }
}

static void number(FILE *f, double v, const char *fmt)
{
    if (isfinite(v)) fprintf(f, fmt, v);
    else fputs("null", f);
}

static void range_json(FILE *f, const char *name, const procmon_range_t *r)
{
    fprintf(f, ", \"%s\": {\"min\": ", name);
    number(f, r->min, "%.2f");
    fputs(", \"avg\": ", f);
    number(f, r->avg, "%.2f");
    fputs(", \"max\": ", f);
    number(f, r->max, "%.2f");
    fputc('}', f);
}

void report_json_watch(FILE *f, const report_run_t *run)
{
    double window = procmon_leak_window();
    if (run->ntargets) {
        fputs(",\n  \"target\": [", f);
        for (size_t i = 0; i < run->ntargets; i++) {
            const procmon_t *t = &run->targets[i];
            procmon_summary_t s;
            procmon_summarize(t->samples, t->n, window, &s);
            fputs(i ? ", {\"label\": " : "{\"label\": ", f);
            result_write_string(f, t->label);
            fputs(", \"pid\": ", f);
            if (t->pid) fprintf(f, "%d", (int)t->pid);
            else fputs("null", f);
            fputs(", \"cmd\": ", f);
            if (t->name) result_write_string(f, t->name);
            else fputs("null", f);
            fputs(", \"exited_s\": ", f);
            if (t->exited_s >= 0) fprintf(f, "%.3f", t->exited_s);
            else fputs("null", f);
            fprintf(f, ",\n    \"summary\": {\"samples\": %zu, \"span_s\": %.3f", s.n, s.span_s);
            range_json(f, "cpu_pct", &s.cpu);
            range_json(f, "rss_bytes", &s.rss);
            range_json(f, "fds", &s.fds);
            range_json(f, "threads", &s.threads);
            fprintf(f, ", \"rss_growth_mib_per_h\": %.3f, \"leak_checked\": %s, \"leak\": %s},\n",
                    s.rss_slope_mib_h, s.leak_checked ? "true" : "false", s.leak ? "true" : "false");
            fprintf(f, "    \"leak_rule\": {\"min_s\": %g, \"min_mib\": %g, \"min_pct\": %g},\n    \"samples\": [",
                    window, PROCMON_LEAK_MIN_MIB, PROCMON_LEAK_MIN_PCT);
            for (size_t k = 0; k < t->n; k++) {
                const procmon_sample_t *p = &t->samples[k];
                fprintf(f, "%s{\"t\": %.3f, \"cpu_pct\": %.2f, \"rss_bytes\": %" PRIu64 ", \"fds\": %u, "
                           "\"threads\": %u, \"procs\": %u}", k ? ", " : "", p->t, p->cpu, p->rss, p->fds,
                        p->threads, p->procs);
            }
            fputs("]}", f);
        }
        fputc(']', f);
    }
    const cpuload_t *c = run->client;
    if (!c) return;
    int b = bottleneck(run->cfg, run->total, run->elapsed_ns, c);
    fprintf(f, ",\n  \"client\": {\"busy_threshold_pct\": %g, \"min_seconds\": %d, \"rate_reached\": %s, "
               "\"bottleneck\": %s, \"bottleneck_thread\": ", CPULOAD_BUSY_PCT, CPULOAD_MIN_SECONDS,
            rate_reached(run->cfg, run->total, run->elapsed_ns) ? "true" : "false", b >= 0 ? "true" : "false");
    if (b >= 0) fprintf(f, "%d", b);
    else fputs("null", f);
    fputs(", \"threads\": [", f);
    for (size_t i = 0; i < c->n; i++) {
        const cpuload_thread_t *t = &c->t[i];
        fprintf(f, "%s\n    {\"thread\": %zu, \"busy_mean_pct\": %.2f, \"busy_max_pct\": %.2f, \"cpu_mean_pct\": %.2f, "
                   "\"seconds\": %u, \"busy_seconds\": %u, \"series\": [", i ? "," : "", i, cpuload_mean(t), t->max,
                cpuload_cpu_mean(t), t->seconds, t->busy_seconds);
        for (uint32_t k = 0; k < t->nseries; k++) {
            if (k) fputs(", ", f);
            number(f, t->series[k], "%.1f");
        }
        fputs("]}", f);
    }
    fputs("]}", f);
}

/* ---- the HTML chart ------------------------------------------------------ */

/* RSS is plotted in MiB so the axis ticks are round: "20M", "1.5G". */
static char *fmt_mib(char *b, size_t n, double mib)
{
    if (mib >= 1024) snprintf(b, n, "%gG", round(mib / 1024 * 100) / 100);
    else snprintf(b, n, "%gM", round(mib * 10) / 10);
    return b;
}

static char *fmt_pct_tick(char *b, size_t n, double v) { snprintf(b, n, "%g%%", v); return b; }

static void chart_target(FILE *f, const report_run_t *run, double span)
{
    static const char *const colors[][2] = { { "#dc2626", "#7c3aed" }, { "#ea580c", "#0891b2" },
                                             { "#ca8a04", "#16a34a" }, { "#db2777", "#4f46e5" } };
    double maxc = 0, maxr = 0;
    size_t total = 0;
    for (size_t i = 0; i < run->ntargets; i++)
        for (size_t k = 0; k < run->targets[i].n; k++) {
            const procmon_sample_t *s = &run->targets[i].samples[k];
            if (s->cpu > maxc) maxc = s->cpu;
            if ((double)s->rss > maxr) maxr = (double)s->rss;
            if (s->t > span) span = s->t;
            total++;
        }
    svg_chart_open(f, "target-chart", "the target's CPU and RSS over time");
    fprintf(f, " data-targets=\"%zu\" data-samples=\"%zu\" data-max-cpu=\"%.1f\" data-max-rss=\"%.0f\">\n"
               "<title>The target's CPU and RSS over time</title>\n", run->ntargets, total, maxc, maxr);
    svg_chart_t c;
    svg_chart_init(&c, f, 1);
    c.x.lo = 0;
    c.x.hi = span > 1 ? span : 1;
    svg_axis_linear(&c.y, maxc, 100);
    svg_axis_linear(&c.y2, maxr / (1024.0 * 1024), 1);
    svg_chart_yaxis(&c, &c.y, fmt_pct_tick, 0, "CPU % (100 = one core)", colors[0][0]);
    svg_chart_yaxis(&c, &c.y2, fmt_mib, 1, "RSS", colors[0][1]);
    svg_chart_xtime(&c, c.x.hi);
    svg_chart_frame(&c);
    if (!total) svg_chart_empty(&c, "no samples");
    svg_legend_item_t leg[8];
    char labels[8][100];
    size_t nleg = 0;
    for (size_t i = 0; i < run->ntargets && nleg + 2 <= 8; i++) {
        const procmon_t *t = &run->targets[i];
        const char *const *col = colors[i % 4];
        double *xs = calloc(3 * (t->n ? t->n : 1), sizeof *xs);
        if (!xs) continue;
        double *cpu = xs + t->n, *rss = cpu + t->n;
        for (size_t k = 0; k < t->n; k++) {
            xs[k] = t->samples[k].t;
            cpu[k] = k ? t->samples[k].cpu : NAN; /* the first sample has no CPU delta */
            rss[k] = (double)t->samples[k].rss / (1024.0 * 1024);
        }
        svg_chart_line(&c, &c.y, xs, cpu, t->n, col[0], 2.2, NULL, "target-cpu");
        svg_chart_line(&c, &c.y2, xs, rss, t->n, col[1], 2.2, "6 3", "target-rss");
        svg_chart_dots(&c, &c.y, xs, cpu, t->n, col[0], "CPU", fmt_pct, "");
        svg_chart_dots(&c, &c.y2, xs, rss, t->n, col[1], "RSS", fmt_mib, "");
        free(xs);
        snprintf(labels[nleg], sizeof labels[nleg], "%s CPU %%", t->label);
        leg[nleg] = (svg_legend_item_t){ labels[nleg], col[0], NULL };
        nleg++;
        snprintf(labels[nleg], sizeof labels[nleg], "%s RSS", t->label);
        leg[nleg] = (svg_legend_item_t){ labels[nleg], col[1], "6 3" };
        nleg++;
    }
    svg_chart_legend(&c, leg, nleg);
    fputs("</svg>\n", f);
}

static void cell_range(FILE *f, const char *metric, const procmon_range_t *r, svg_tick_fmt_t fmt)
{
    char a[32], b[32], c[32];
    fprintf(f, "<td data-metric=\"%s-min\">%s</td><td data-metric=\"%s-avg\">%s</td><td data-metric=\"%s-max\">%s</td>",
            metric, fmt(a, sizeof a, r->min), metric, fmt(b, sizeof b, r->avg), metric, fmt(c, sizeof c, r->max));
}

void report_html_watch(FILE *f, const report_run_t *run, double span)
{
    double window = procmon_leak_window();
    if (run->ntargets) {
        fputs("<section><h2>Target process</h2>\n", f);
        chart_target(f, run, span);
        fputs("<table id=\"target\">\n<thead><tr><th class=\"l\">target</th><th>samples</th><th>CPU min</th>"
              "<th>avg</th><th>max</th><th>RSS min</th><th>avg</th><th>max</th><th>RSS growth</th><th>fds max</th>"
              "<th>threads max</th><th class=\"l\">note</th></tr></thead><tbody>\n", f);
        for (size_t i = 0; i < run->ntargets; i++) {
            const procmon_t *t = &run->targets[i];
            procmon_summary_t s;
            procmon_summarize(t->samples, t->n, window, &s);
            char note[96] = "";
            if (s.leak) snprintf(note, sizeof note, "RSS still growing: a memory leak?");
            else if (t->exited_s >= 0) snprintf(note, sizeof note, "exited at %.0f s", t->exited_s);
            fputs(s.leak ? "<tr class=\"bad\"><td class=\"l name\">" : "<tr><td class=\"l name\">", f);
            svg_escape(f, t->label);
            fprintf(f, "</td><td>%zu</td>", s.n);
            cell_range(f, "cpu", &s.cpu, fmt_pct);
            procmon_range_t mib = { s.rss.min / 1048576, s.rss.avg / 1048576, s.rss.max / 1048576 };
            cell_range(f, "rss", &mib, fmt_mib);
            fprintf(f, "<td data-metric=\"rss-growth\">%+.1f MiB/h</td><td>%.0f</td><td>%.0f</td><td class=\"l\">",
                    s.rss_slope_mib_h, s.fds.max, s.threads.max);
            svg_escape(f, note);
            fputs("</td></tr>\n", f);
        }
        fprintf(f, "</tbody></table>\n<p class=\"note\">Sampled from /proc once a second (--monitor-pid, --monitor-cmd): "
                   "CPU %% of one core (solid, left axis) and resident memory (dashed, right axis), summed over the "
                   "matched processes. A leak is flagged after %g s of samples when RSS grew at least %g MiB and %g%% "
                   "of its start, and was still growing in the second half.</p></section>\n",
                window, PROCMON_LEAK_MIN_MIB, PROCMON_LEAK_MIN_PCT);
    }
    const cpuload_t *c = run->client;
    if (!c || !c->n) return;
    int b = bottleneck(run->cfg, run->total, run->elapsed_ns, c), judged = 0;
    for (size_t i = 0; i < c->n; i++) judged |= c->t[i].seconds >= CPULOAD_MIN_SECONDS;
    fputs("<section><h2>Client threads</h2><table id=\"client\">\n<thead><tr><th class=\"l\">thread</th>"
          "<th>busy avg</th><th>busy max</th><th>on a CPU avg</th><th>seconds &ge; 90% busy</th></tr></thead><tbody>\n", f);
    for (size_t i = 0; i < c->n; i++) {
        const cpuload_thread_t *t = &c->t[i];
        fprintf(f, "<tr%s><td class=\"l\">%zu</td><td data-metric=\"busy\">%.1f%%</td><td>%.1f%%</td><td>%.1f%%</td>"
                   "<td>%u of %u</td></tr>\n", (int)i == b ? " class=\"bad\"" : "", i, cpuload_mean(t), t->max,
                cpuload_cpu_mean(t), t->busy_seconds, t->seconds);
    }
    fprintf(f, "</tbody></table>\n<p class=\"note\" id=\"client-verdict\">%s Busy is the time a worker thread ran or "
               "was ready to run but waited for a CPU, over the wall time.</p></section>\n",
            b >= 0 ? "The client was the bottleneck: use more threads (-t), another machine, or --shard."
            : judged ? "The client was not the bottleneck." : "Too short a run to judge whether the client was the bottleneck (3 s).");
}
