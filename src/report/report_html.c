/* report_html.c - a self-contained HTML page with inline SVG charts.
 *
 * The page loads nothing: CSS is inline, fonts are the system's, charts are
 * SVG (drawn with the kit in svg_chart.h), and there is no script. Every number on it comes from the
 * run. Key numbers are also in data-* attributes (data-metric, data-us,
 * data-max, ...) so tests and tools can read them without parsing prose.
 * Every string that came from the user (URL, names, expressions, headers)
 * goes through svg_escape(). */
#include "report.h"
#include "report_html.h"
#include "svg_chart.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- tables -------------------------------------------------------------- */

static void td_us(FILE *f, const char *metric, double us)
{
    char b[32];
    fprintf(f, "<td data-metric=\"%s\" data-us=\"%.0f\">%s</td>", metric, us, report_time_us(b, sizeof b, us));
}

static void latency_rows(FILE *f, const hist_t *a, const hist_t *b)
{
    static const struct { const char *label, *metric; double p; } rows[] = {
        { "avg", "avg", -1 }, { "stdev", "stdev", -2 }, { "p50", "p50", 50 }, { "p90", "p90", 90 },
        { "p99", "p99", 99 }, { "p99.9", "p99.9", 99.9 }, { "max", "max", 100 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fprintf(f, "<tr><th>%s</th>", rows[i].label);
        for (int k = 0; k < (b ? 2 : 1); k++) {
            const hist_t *h = k ? b : a;
            double v = rows[i].p == -1 ? hist_mean(h) : rows[i].p == -2 ? hist_stdev(h)
                     : rows[i].p == 100 ? (double)h->max : (double)hist_percentile(h, rows[i].p);
            char m[32];
            snprintf(m, sizeof m, "%s%s", k ? "service-" : "", rows[i].metric);
            td_us(f, m, v);
        }
        fputs("</tr>\n", f);
    }
}

static void kv(FILE *f, const char *key, const char *metric, const char *value)
{
    fprintf(f, "<tr><th>%s</th><td", key);
    if (metric) fprintf(f, " data-metric=\"%s\"", metric);
    fputc('>', f);
    svg_escape(f, value);
    fputs("</td></tr>\n", f);
}

static void section_config(FILE *f, const report_run_t *run)
{
    const config_t *c = run->cfg;
    char b[256];
    fputs("<section><h2>Configuration</h2><table class=\"kv\" id=\"config\">\n", f);
    kv(f, "URL", "url", c->url_text);
    kv(f, "Method", "method", c->method);
    snprintf(b, sizeof b, "%" PRIu64, c->threads);
    kv(f, "Threads", "threads", b);
    snprintf(b, sizeof b, "%" PRIu64, c->connections);
    kv(f, "Connections", "connections", b);
    if (c->requests) {
        snprintf(b, sizeof b, "%" PRIu64, c->requests);
        kv(f, "Requests (-n)", "requests-limit", b);
    }
    if (c->duration_set || !c->requests) kv(f, "Duration", "duration", report_duration(b, sizeof b, c->duration_ns));
    if (c->rate > 0 && c->stages.n) snprintf(b, sizeof b, "by stages (-R)");
    else if (c->rate > 0) snprintf(b, sizeof b, "%g requests/s", c->rate);
    else snprintf(b, sizeof b, "unthrottled");
    kv(f, "Rate", "rate", b);
    if (c->stages.n) {
        size_t o = 0;
        for (size_t i = 0; i < c->stages.n && o < sizeof b - 1; i++) {
            char d[32];
            int w = snprintf(b + o, sizeof b - o, "%s%s \xe2\x86\x92 %g", i ? ", " : "",
                             report_duration(d, sizeof d, c->stages.dur_ns[i]), c->stages.target[i]);
            if (w < 0) break;
            o += (size_t)w;
        }
        if (o >= sizeof b) o = sizeof b - 1;
        snprintf(b + o, sizeof b - o, "%s", c->rate > 0 ? " requests/s" : " connections");
        kv(f, "Stages", "stages", b);
    }
    kv(f, "Timeout", "timeout", report_duration(b, sizeof b, c->timeout_ns));
    if (c->script) {
        fputs("<tr><th>Script</th><td data-metric=\"script\">", f);
        svg_escape(f, c->script);
        for (size_t i = 0; i < c->nscript_args; i++) {
            fputc(' ', f);
            svg_escape(f, c->script_args[i]);
        }
        fputs("</td></tr>\n", f);
    }
    for (size_t i = 0; i < c->nheaders; i++) kv(f, i ? "" : "Headers", NULL, c->headers[i]);
    if (c->body_len) {
        snprintf(b, sizeof b, "%zu bytes", c->body_len);
        kv(f, "Body", NULL, b);
    }
    kv(f, "Keep-alive", NULL, c->keepalive ? "yes" : "no");
    if (!strcmp(c->url.scheme, "https")) kv(f, "TLS verify", NULL, c->insecure ? "no (-k)" : "yes");
    fputs("</table></section>\n", f);
}

/* Responses by status code, each marked expected or failed (--expect-status). */
static void status_table(FILE *f, const config_t *c, const stats_t *s)
{
    if (!stats_ncodes(s)) return;
    fputs("<h2>Responses by status</h2><table id=\"status\">\n<thead><tr><th class=\"l\">status</th>"
          "<th class=\"l\">counted as</th><th>count</th></tr></thead><tbody>\n", f);
    for (uint32_t i = 0; i < STATS_STATUS_MAX; i++) {
        if (!s->status[i]) continue;
        int ok = stats_expected(&c->expect, i);
        fprintf(f, "<tr data-status=\"%u\"%s><td class=\"l\">%u</td><td class=\"l muted\">%s</td>"
                   "<td data-metric=\"status-%u\">%" PRIu64 "</td></tr>\n",
                i, ok ? "" : " class=\"bad\"", i, ok ? "expected" : "failed", i, s->status[i]);
    }
    fputs("</tbody></table>\n", f);
}

static void section_errors(FILE *f, const config_t *c, const stats_t *s)
{
    uint64_t total = stats_error_total(&s->errors) + s->errors.status;
    fputs("<section class=\"half\"><h2>Errors by class</h2><table id=\"errors\">\n"
          "<thead><tr><th class=\"l\">class</th><th class=\"l\">meaning</th><th>count</th></tr></thead><tbody>\n", f);
    for (int k = 0; k < 6; k++) {
        uint64_t v = report_err_get(&s->errors, k);
        fprintf(f, "<tr%s><td class=\"l\"><span class=\"dot\" style=\"background:%s\"></span>%s</td>"
                   "<td class=\"l muted\">%s</td><td data-metric=\"errors-%s\">%" PRIu64 "</td></tr>\n",
                v ? " class=\"bad\"" : "", report_err_colors[k], report_err_names[k], report_err_what[k], report_err_names[k], v);
    }
    fprintf(f, "<tr class=\"total\"><td class=\"l\">total</td><td></td><td data-metric=\"errors\">%" PRIu64
               "</td></tr>\n</tbody></table>\n", total);
    status_table(f, c, s);
    fputs("</section>\n", f);
}

static void section_names(FILE *f, const stats_t *s, double secs)
{
    fputs("<section><h2>Requests by name</h2>\n", f);
    if (!s->nnamed) {
        fputs("<p class=\"muted\" id=\"names-none\">No named requests: a script names them with "
              "<code>name = \"...\"</code> in a workflow.</p></section>\n", f);
        return;
    }
    fputs("<table id=\"names\"><thead><tr><th class=\"l\">type</th><th class=\"l\">name</th><th>requests</th>"
          "<th>failures</th><th>failed</th><th>req/s</th><th>min</th><th>avg</th><th>p50</th><th>p95</th><th>p99</th>"
          "<th>max</th></tr></thead><tbody>\n", f);
    for (size_t i = 0; i < s->nnamed; i++) {
        const stats_named_t *n = &s->named[i];
        const hist_t *h = &n->latency;
        fputs("<tr data-name=\"", f);
        svg_escape(f, n->name);
        fputs("\" data-method=\"", f);
        svg_escape(f, n->method);
        fputs("\"><td class=\"l\" data-metric=\"method\">", f);
        svg_escape(f, n->method[0] ? n->method : "-");
        fputs("</td><td class=\"l name\">", f); /* the full name: no truncation */
        svg_escape(f, n->name);
        fprintf(f, "</td><td data-metric=\"requests\">%" PRIu64 "</td><td data-metric=\"failures\"%s>%" PRIu64
                   "</td><td>%.2f%%</td><td data-metric=\"rps\">%.2f</td>",
                n->requests, n->failures ? " class=\"bad\"" : "", n->failures,
                n->requests ? 100.0 * (double)n->failures / (double)n->requests : 0.0,
                secs > 0 ? (double)n->requests / secs : 0.0);
        td_us(f, "min", h->total ? (double)h->min : 0.0);
        td_us(f, "avg", hist_mean(h));
        td_us(f, "p50", (double)hist_percentile(h, 50));
        td_us(f, "p95", (double)hist_percentile(h, 95));
        td_us(f, "p99", (double)hist_percentile(h, 99));
        td_us(f, "max", (double)h->max);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></section>\n", f);
}

static void section_checks(FILE *f, const stats_t *s)
{
    if (!s->nchecks) return;
    fputs("<section><h2>Checks</h2><table id=\"checks\">\n<thead><tr><th></th><th class=\"l\">check</th>"
          "<th>passed</th><th>failed</th><th>rate</th></tr></thead><tbody>\n", f);
    for (size_t i = 0; i < s->nchecks; i++) {
        const stats_check_t *k = &s->checks[i];
        uint64_t all = k->pass + k->fail;
        fprintf(f, "<tr data-name=\"");
        svg_escape(f, k->name);
        fprintf(f, "\" data-pass=\"%d\"><td class=\"%s\">%s</td><td class=\"l name\">", !k->fail,
                k->fail ? "fail" : "pass", k->fail ? "\xe2\x9c\x97" : "\xe2\x9c\x93");
        svg_escape(f, k->name);
        fprintf(f, "</td><td data-metric=\"pass\">%" PRIu64 "</td><td data-metric=\"fail\"%s>%" PRIu64
                   "</td><td>%.2f%%</td></tr>\n",
                k->pass, k->fail ? " class=\"bad\"" : "", k->fail, all ? 100.0 * (double)k->pass / (double)all : 0.0);
    }
    fputs("</tbody></table></section>\n", f);
}

/* Virtual users: users by class, and the exceptions in their code
 * (Locust's Exceptions tab: count, message, where). */
static void section_users(FILE *f, const stats_t *s)
{
    if (s->nclasses) {
        fputs("<section><h2>Users by class</h2><table id=\"user-classes\">\n<thead><tr><th class=\"l\">class</th>"
              "<th>users</th></tr></thead><tbody>\n", f);
        for (size_t i = 0; i < s->nclasses; i++) {
            fputs("<tr><td class=\"l name\">", f);
            svg_escape(f, s->classes[i].name);
            fprintf(f, "</td><td data-metric=\"users\">%" PRIu64 "</td></tr>\n", s->classes[i].users);
        }
        fputs("</tbody></table></section>\n", f);
    }
    if (!s->nexceptions) return;
    fprintf(f, "<section><h2>Exceptions</h2><p class=\"note\">%" PRIu64 " errors in virtual users' code; each "
               "ended its iteration and the user went on.</p><table id=\"exceptions\">\n<thead><tr><th>count</th>"
               "<th class=\"l\">location</th><th class=\"l\">message</th></tr></thead><tbody>\n",
            stats_exceptions_total(s));
    for (size_t i = 0; i < s->nexceptions; i++) {
        fprintf(f, "<tr><td data-metric=\"count\" class=\"bad\">%" PRIu64 "</td><td class=\"l\">",
                s->exceptions[i].count);
        svg_escape(f, s->exceptions[i].location);
        fputs("</td><td class=\"l name\">", f);
        svg_escape(f, s->exceptions[i].message);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table></section>\n", f);
}

static void section_thresholds(FILE *f, const report_run_t *run)
{
    if (!run->nth) return;
    fputs("<section><h2>Thresholds</h2><table id=\"thresholds\">\n<thead><tr><th></th>"
          "<th class=\"l\">threshold</th><th>measured</th><th class=\"l\"></th></tr></thead><tbody>\n", f);
    for (size_t i = 0; i < run->nth; i++) {
        const threshold_result_t *r = &run->verdicts[i];
        char v[64];
        fputs("<tr data-expr=\"", f);
        svg_escape(f, run->th[i].expr);
        fprintf(f, "\" data-pass=\"%d\"><td class=\"%s\">%s</td><td class=\"l name\"><code>", r->pass,
                r->pass ? "pass" : "fail", r->pass ? "\xe2\x9c\x93" : "\xe2\x9c\x97");
        svg_escape(f, run->th[i].expr);
        fputs("</code></td><td data-metric=\"measured\">", f);
        svg_escape(f, threshold_format_value(&run->th[i], r->measured, v, sizeof v));
        fputs("</td><td class=\"l muted\">", f);
        svg_escape(f, r->note ? r->note : "");
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table></section>\n", f);
}

/* ---- page ---------------------------------------------------------------- */

static const char css[] =
    ":root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f3f4f6;--card:#fff;--good:#15803d;--bad:#b91c1c}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font-family:system-ui,sans-serif;color:var(--ink);background:var(--bg);font-size:14px;"
    "line-height:1.45}\n"
    "header{background:#111827;color:#f9fafb;padding:20px 0 22px}\n"
    ".wrap{max-width:1120px;margin:0 auto;padding:0 24px}\n"
    "header h1{margin:0;font-size:22px;font-weight:650;letter-spacing:-.01em}\n"
    "header h1 span{color:#9ca3af;font-weight:400}\n"
    "header .url{font-size:16px;margin-top:4px;word-break:break-all}\n"
    "header .meta{color:#9ca3af;font-size:13px;margin-top:6px}\n"
    ".badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;"
    "margin-left:8px;vertical-align:1px}\n"
    ".badge.ok{background:#dcfce7;color:#166534}.badge.no{background:#fee2e2;color:#991b1b}\n"
    "main{padding:20px 0 40px}\n"
    ".cards{display:grid;grid-template-columns:repeat(6,1fr);gap:12px}\n"
    ".card{background:var(--card);border-radius:10px;padding:12px 16px;box-shadow:0 1px 2px rgba(0,0,0,.06)}\n"
    ".card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}\n"
    ".card .v{font-size:24px;font-weight:650;margin-top:2px;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    ".card .s{color:var(--muted);font-size:12px}\n"
    ".card.alert .v{color:var(--bad)}\n"
    ".grid{display:grid;grid-template-columns:1fr 1fr;gap:16px;margin-top:16px}\n"
    ".grid>section{margin-top:0}\n.col>section:first-child{margin-top:0}\n"
    "section{background:var(--card);border-radius:10px;padding:14px 20px 16px;margin-top:16px;"
    "box-shadow:0 1px 2px rgba(0,0,0,.06)}\n"
    "h2{font-size:15px;margin:0 0 10px;font-weight:650}\n"
    "p.note{color:var(--muted);font-size:12px;margin:6px 0 0}\n"
    ".muted{color:var(--muted)}\n"
    "table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}\n"
    "th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}\n"
    "th{font-weight:600;color:#374151}\n"
    "thead th{border-bottom:2px solid var(--line)}\n"
    "tbody th{text-align:left}\n"
    "table.kv th{text-align:left;width:30%;border-bottom:1px solid var(--line)}\n"
    "table.kv td{text-align:left;white-space:normal;word-break:break-all}\n"
    ".l{text-align:left}\n"
    "td.name{white-space:normal;word-break:break-word}\n"
    "td.muted{white-space:normal}\n"
    "tr.total td{font-weight:650;border-bottom:none}\n"
    ".bad{color:var(--bad);font-weight:600}\n"
    "td.pass{color:var(--good);font-weight:700;font-size:16px}td.fail{color:var(--bad);font-weight:700;font-size:16px}\n"
    ".dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:7px}\n"
    "code{font-family:ui-monospace,monospace;font-size:13px}\n"
    "svg.chart{display:block;width:100%;height:auto}\n"
    "svg text{font-family:system-ui,sans-serif;font-size:12px;fill:#4b5563}\n"
    "svg .legend text{font-size:12.5px;fill:#1f2937}\n"
    "svg .axis-title{font-size:12px;fill:#6b7280}\n"
    "svg .grid{stroke:#eceef1;stroke-width:1}\n"
    "svg .axis{stroke:#9ca3af;stroke-width:1}\n"
    "svg .tickmark{stroke:#9ca3af}\n"
    "svg .stage{stroke:#64748b;stroke-width:1.2;stroke-dasharray:5 4}\n"
    "svg .stage-label{font-size:11.5px;fill:#475569;paint-order:stroke;stroke:#fff;stroke-width:4px;"
    "stroke-linejoin:round}\n"
    "svg .finding{stroke:#b91c1c;stroke-width:1.6}\n"
    "svg .finding-label{font-size:11.5px;font-weight:600;fill:#b91c1c;paint-order:stroke;stroke:#fff;"
    "stroke-width:4px;stroke-linejoin:round}\n"
    "svg .empty{font-size:15px;fill:#9ca3af}\n"
    "footer{color:var(--muted);font-size:12px;padding:0 0 24px}\n"
    "@media (max-width:900px){.cards{grid-template-columns:repeat(3,1fr)}.grid{grid-template-columns:1fr}}\n";

static void card(FILE *f, const char *cls, const char *key, const char *metric, const char *value, const char *sub)
{
    fprintf(f, "<div class=\"card%s%s\"><div class=\"k\">%s</div><div class=\"v\" data-metric=\"%s\">", cls ? " " : "",
            cls ? cls : "", key, metric);
    svg_escape(f, value);
    fputs("</div><div class=\"s\">", f);
    svg_escape(f, sub ? sub : "");
    fputs("</div></div>\n", f);
}

int report_html(FILE *f, const report_run_t *run)
{
    const stats_t *s = run->total;
    const config_t *c = run->cfg;
    double secs = (double)run->elapsed_ns / 1e9;
    report_plot_t p;
    if (report_plot_init(&p, run)) return -ENOMEM;

    char when[64];
    time_t t = (time_t)(run->start_unix_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(when, sizeof when, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);

    fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>barrage: ", f);
    svg_escape(f, c->url_text);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head><body>\n", css);

    /* Header: what was tested, when, and how it ended. */
    int failed_th = 0;
    for (size_t i = 0; i < run->nth; i++) failed_th += !run->verdicts[i].pass;
    fputs("<header><div class=\"wrap\"><h1>barrage <span>benchmark report</span>", f);
    if (run->nth)
        fprintf(f, "<span class=\"badge %s\" id=\"verdict\">%s</span>", failed_th ? "no" : "ok",
                failed_th ? "thresholds failed" : "thresholds passed");
    if (run->interrupted) fputs("<span class=\"badge no\">interrupted</span>", f);
    fputs("</h1>\n<div class=\"url\">", f);
    svg_escape(f, c->method);
    fputc(' ', f);
    svg_escape(f, c->url_text);
    char d[32], a[32];
    fprintf(f, "</div>\n<div class=\"meta\">started %s (<span data-metric=\"start-unix-ms\">%" PRId64
               "</span>) &middot; %" PRIu64 " threads, %" PRIu64 " connections &middot; exit code "
               "<span data-metric=\"exit-code\">%d</span> &middot; barrage ",
            when, run->start_unix_ms, c->threads, c->connections, run->exit_code);
    svg_escape(f, BARRAGE_VERSION);
    fputs("</div></div></header>\n<main><div class=\"wrap\">\n", f);

    /* Summary cards. */
    uint64_t errs = stats_error_total(&s->errors) + s->errors.status;
    char v[64], sub[96];
    fputs("<div class=\"cards\" id=\"summary\">\n", f);
    snprintf(v, sizeof v, "%" PRIu64, s->requests);
    snprintf(sub, sizeof sub, "%" PRIu64 " sent, %" PRIu64 " connection%s opened", s->sent, s->connects,
             s->connects == 1 ? "" : "s");
    card(f, NULL, "Requests", "requests", v, sub);
    if (c->duration_set || !c->requests)
        snprintf(sub, sizeof sub, "%s configured", report_duration(d, sizeof d, c->duration_ns));
    else
        snprintf(sub, sizeof sub, "until %" PRIu64 " responses (-n)", c->requests);
    card(f, NULL, "Duration", "duration", report_time_us(v, sizeof v, (double)run->elapsed_ns / 1000), sub);
    snprintf(v, sizeof v, "%.2f", secs > 0 ? (double)s->requests / secs : 0.0);
    if (c->rate > 0 && c->stages.n) snprintf(sub, sizeof sub, "target up to %g/s", rate_stages_max(&c->stages));
    else if (c->rate > 0) snprintf(sub, sizeof sub, "target %g/s", c->rate);
    else snprintf(sub, sizeof sub, "requests per second");
    card(f, NULL, "Req/s", "rps", v, sub);
    snprintf(v, sizeof v, "%sB", report_binary(a, sizeof a, (double)s->bytes));
    snprintf(sub, sizeof sub, "%sB/s", report_binary(d, sizeof d, secs > 0 ? (double)s->bytes / secs : 0.0));
    card(f, NULL, "Transfer", "bytes", v, sub);
    snprintf(v, sizeof v, "%" PRIu64, errs);
    snprintf(sub, sizeof sub, "%.2f%% of %s", s->requests + stats_error_total(&s->errors)
             ? 100.0 * (double)errs / (double)(s->requests + stats_error_total(&s->errors)) : 0.0,
             "attempts");
    card(f, errs ? "alert" : NULL, "Errors", "errors", v, sub);
    uint64_t failed = stats_failed(s), attempts = stats_attempts(s);
    snprintf(v, sizeof v, "%" PRIu64, failed);
    snprintf(sub, sizeof sub, "%.2f%% of %" PRIu64 " attempts", attempts ? 100.0 * (double)failed / (double)attempts : 0.0,
             attempts);
    card(f, failed ? "alert" : NULL, "Failed", "failed", v, sub);
    snprintf(sub, sizeof sub, "p50 %s", report_time_us(a, sizeof a, (double)hist_percentile(&s->latency, 50)));
    card(f, NULL, "Latency p99", "p99-card", report_time_us(v, sizeof v, (double)hist_percentile(&s->latency, 99)), sub);
    fputs("</div>\n", f);

    /* Latency table (corrected vs uncorrected with -R) and errors. */
    fputs("<div class=\"grid\">\n<section class=\"half\"><h2>Latency</h2><table id=\"latency\">\n", f);
    if (c->rate > 0)
        fputs("<thead><tr><th></th><th>corrected</th><th>uncorrected</th></tr></thead>\n", f);
    fputs("<tbody>\n", f);
    latency_rows(f, &s->latency, c->rate > 0 ? &s->service : NULL);
    fprintf(f, "</tbody></table><p class=\"note\">%" PRIu64 " responses.", s->latency.total);
    if (c->rate > 0) {
        fprintf(f, " Corrected latency is measured from each request's intended send time (coordinated "
                   "omission); uncorrected from the actual send. Send delay behind the schedule: p99 %s, max %s.",
                report_time_us(a, sizeof a, (double)hist_percentile(&s->jitter, 99)), report_time_us(d, sizeof d, (double)s->jitter.max));
    }
    if (s->connect_time.total)
        fprintf(f, " Connect: p50 %s, p99 %s.", report_time_us(a, sizeof a, (double)hist_percentile(&s->connect_time, 50)),
                report_time_us(d, sizeof d, (double)hist_percentile(&s->connect_time, 99)));
    if (!strcmp(c->url.scheme, "https")) {
        fputs(" TLS: ", f);
        svg_escape(f, s->tls_info[0] ? s->tls_info : "no handshake completed");
        fprintf(f, ", %" PRIu64 " handshakes (%" PRIu64 " resumed), p50 %s.", s->tls_time.total, s->tls_resumed,
                report_time_us(a, sizeof a, (double)hist_percentile(&s->tls_time, 50)));
    }
    fputs("</p></section>\n", f);
    section_errors(f, c, s);
    fputs("</div>\n", f);

    /* Charts. */
    fputs("<section><h2>Throughput</h2>\n", f);
    report_chart_rps(f, &p);
    fputs("<p class=\"note\">Responses completed in each second of the run", f);
    if (p.n > 1 && p.frac[p.n - 1] < 0.2)
        fprintf(f, "; the last %.0f ms are too short for a rate and left out", p.frac[p.n - 1] * 1000);
    else if (p.n && p.frac[p.n - 1] < 0.99)
        fprintf(f, "; the last, partial second (%.0f ms) is scaled to a rate", p.frac[p.n - 1] * 1000);
    fputs(". Dashed vertical lines mark stage changes.</p></section>\n", f);
    fputs("<section><h2>Latency over time</h2>\n", f);
    report_chart_latency(f, &p);
    fputs("<p class=\"note\">Percentiles of the responses completed in each second.</p></section>\n", f);
    fputs("<section><h2>Latency distribution</h2>\n", f);
    report_chart_distribution(f, run);
    fputs("<p class=\"note\">Latency at each percentile, from the merged histogram (within 0.1%); the x axis "
          "stretches the tail: each step right is ten times rarer.</p></section>\n", f);
    fputs("<section><h2>Errors over time</h2>\n", f);
    report_chart_errors(f, &p);
    fputs("</section>\n", f);
    fputs("<section><h2>Failed responses by status over time</h2>\n", f);
    report_chart_status(f, &p);
    fputs("<p class=\"note\">Responses whose status was not expected (--expect-status), per second, by "
          "status.</p></section>\n", f);
    report_html_watch(f, run, p.span);

    report_html_stages(f, run);
    section_names(f, s, secs);
    section_users(f, s);
    /* Verdicts beside the configuration they were measured under. */
    if (s->nchecks || run->nth) {
        fputs("<div class=\"grid\">\n<div class=\"col\">\n", f);
        section_thresholds(f, run);
        section_checks(f, s);
        fputs("</div>\n<div class=\"col\">\n", f);
        section_config(f, run);
        fputs("</div>\n</div>\n", f);
    } else {
        section_config(f, run);
    }
    fputs("</div></main>\n<footer><div class=\"wrap\">Generated by barrage ", f);
    svg_escape(f, BARRAGE_VERSION);
    fputs(". Self-contained: no scripts, no external resources.</div></footer>\n</body></html>\n", f);
    free(p.xs);
    return ferror(f) ? -EIO : 0;
}
