/* report_json.c - one run's JSON result (schema: src/result/result.schema.json),
 * written through the result writer (result.h) that `barrage merge` uses too:
 * what is here is what only a run knows (its host, its options, its
 * thresholds' verdicts, its series). */
#include "report.h"
#include "result.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static void host(FILE *f)
{
    char model[256] = "unknown";
    FILE *ci = fopen("/proc/cpuinfo", "r");
    if (ci) {
        char line[512];
        while (fgets(line, sizeof line, ci)) {
            if (!strncmp(line, "model name", 10)) {
                char *c = strchr(line, ':');
                if (c) {
                    c++;
                    while (*c == ' ') c++;
                    c[strcspn(c, "\n")] = 0;
                    snprintf(model, sizeof model, "%s", c);
                }
                break;
            }
        }
        fclose(ci);
    }
    struct utsname u;
    char kernel[300] = "unknown", name[256] = "";
    if (uname(&u) == 0) snprintf(kernel, sizeof kernel, "%s %s %s", u.sysname, u.release, u.machine);
    gethostname(name, sizeof name - 1);
    fputs("{\"cpu_model\": ", f);
    result_write_string(f, model);
    fprintf(f, ", \"cores\": %ld, \"kernel\": ", sysconf(_SC_NPROCESSORS_ONLN));
    result_write_string(f, kernel);
    fputs(", \"hostname\": ", f);
    result_write_string(f, name);
    fputc('}', f);
}

/* config.from_script: the options a script's options table set. */
typedef struct from_script { FILE *f; int n; } from_script_t;

static void from_script(void *ctx, const char *name)
{
    from_script_t *fs = ctx;
    if (fs->n++) fputs(", ", fs->f);
    result_write_string(fs->f, name);
}

static void config(FILE *f, const config_t *c)
{
    fputs("{\"url\": ", f);
    result_write_string(f, c->url_text);
    fputs(", \"method\": ", f);
    result_write_string(f, c->method);
    fprintf(f, ", \"threads\": %" PRIu64 ", \"connections\": %" PRIu64 ", \"duration_s\": ",
            c->threads, c->connections);
    if (c->duration_set || !c->requests) result_write_number(f, (double)c->duration_ns / 1e9);
    else fputs("null", f);
    fprintf(f, ", \"requests\": %" PRIu64 ", \"timeout_s\": ", c->requests);
    result_write_number(f, (double)c->timeout_ns / 1e9);
    fputs(", \"connect_timeout_s\": ", f);
    result_write_number(f, (double)(c->connect_timeout_ns ? c->connect_timeout_ns : c->timeout_ns) / 1e9);
    fputs(", \"rate\": ", f);
    result_write_number(f, c->rate);
    fputs(", \"stages\": [", f);
    for (size_t i = 0; i < c->stages.n; i++) {
        fprintf(f, "%s{\"duration_s\": ", i ? ", " : "");
        result_write_number(f, (double)c->stages.dur_ns[i] / 1e9);
        fputs(", \"target\": ", f);
        result_write_number(f, c->stages.target[i]);
        fputc('}', f);
    }
    fputs("], \"headers\": [", f);
    for (size_t i = 0; i < c->nheaders; i++) {
        if (i) fputs(", ", f);
        result_write_string(f, c->headers[i]);
    }
    fprintf(f, "], \"body_bytes\": %zu, \"script\": ", c->body_len);
    if (c->script) result_write_string(f, c->script);
    else fputs("null", f);
    fprintf(f, ", \"shard\": ");
    if (c->shard_count > 1) fprintf(f, "{\"index\": %u, \"count\": %u}", c->shard_index, c->shard_count);
    else fputs("null", f);
    fputs(", \"from_script\": [", f);
    from_script_t fs = { f, 0 };
    config_script_sources(c, from_script, &fs);
    fputc(']', f);
    fputs(", \"expect_status\": ", f);
    result_write_string(f, c->expect_text ? c->expect_text : "100-399");
    fprintf(f, ", \"seed\": %" PRIu64, c->seed);
    fprintf(f, ", \"keepalive\": %s, \"pin\": %s, \"tls_verify\": %s, \"tls_resume\": %s}",
            c->keepalive ? "true" : "false", c->pin ? "true" : "false",
            c->insecure ? "false" : "true", c->tls_resume ? "true" : "false");
}

void report_json_events(FILE *f, const report_run_t *run)
{
    static const char *const kinds[] = { "users", "rate", "stop" };
    fputc('[', f);
    for (size_t i = 0; i < run->nevents; i++) {
        const control_event_t *e = &run->events[i];
        fputs(i ? ", {\"t\": " : "{\"t\": ", f);
        result_write_number(f, ((double)e->at_ns - (double)run->events_t0_ns) / 1e9);
        fprintf(f, ", \"action\": \"%s\", \"value\": ", kinds[e->kind]);
        result_write_number(f, e->value);
        fputc('}', f);
    }
    fputc(']', f);
}

int report_json(FILE *f, const report_run_t *run)
{
    const stats_t *s = run->total;
    const config_t *c = run->cfg;
    double secs = (double)run->elapsed_ns / 1e9;

    result_write_head(f);
    host(f);
    fputs(",\n  \"config\": ", f);
    config(f, c);
    result_write_times(f, run->start_unix_ms, run->start_actual_unix_us, secs, run->interrupted, run->exit_code);
    int rate = c->rate > 0;
    result_write_stats(f, s, secs, rate, rate, rate, !strcmp(c->url.scheme, "https"));
    result_write_thresholds(f, run->th, run->verdicts, run->nth);
    result_write_stages(f, run->stages);
    if (run->analysis && report_has_analysis(run->analysis)) result_write_analysis(f, run->analysis);
    fputs("  \"series\": [", f);
    const stats_series_t *ser = run->series;
    for (uint32_t i = 0; ser && i < ser->n; i++) {
        result_point_t pt = result_point_of(&ser->pts[i], run->start_unix_ms + (int64_t)i * 1000);
        result_write_point(f, i == 0, i, &pt);
    }
    fputc(']', f);
    if (c->web) { /* --web's control actions */
        fputs(",\n  \"events\": ", f);
        report_json_events(f, run);
    }
    report_json_watch(f, run);
    fputs("\n}\n", f);
    return ferror(f) ? -EIO : 0;
}
