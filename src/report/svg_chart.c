/* svg_chart.c - the SVG chart kit (svg_chart.h): generic drawing, no
 * statistics; coordinates are written with one decimal. */
#include "svg_chart.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- text ---------------------------------------------------------------- */

/* HTML-escape s (safe in text and in quoted attributes). */
void svg_escape(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (*p < 0x20 && *p != '\t' && *p != '\n') fputs("\xef\xbf\xbd", f); /* U+FFFD */
            else fputc(*p, f);
        }
    }
}

/* Tick labels: short, no trailing zeros ("2.5ms", "500us", "1s"). */
char *svg_tick_us(char *b, size_t n, double us)
{
    if (us == 0) snprintf(b, n, "0");
    else if (us < 1000) snprintf(b, n, "%gus", us);
    else if (us < 1e6) snprintf(b, n, "%gms", us / 1e3);
    else snprintf(b, n, "%gs", us / 1e6);
    return b;
}

char *svg_tick_count(char *b, size_t n, double v)
{
    if (v < 1000) snprintf(b, n, "%g", v);
    else if (v < 1e6) snprintf(b, n, "%gk", v / 1e3);
    else if (v < 1e9) snprintf(b, n, "%gM", v / 1e6);
    else snprintf(b, n, "%gG", v / 1e9);
    return b;
}

char *svg_tick_secs(char *b, size_t n, double s)
{
    long t = lround(s);
    if (t && t % 3600 == 0) snprintf(b, n, "%ldh", t / 3600);
    else if (t >= 60 && t % 60 == 0) snprintf(b, n, "%ldm", t / 60);
    else if (t >= 60) snprintf(b, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(b, n, "%lds", t);
    return b;
}

char *svg_tick_rate(char *b, size_t n, double v)
{
    snprintf(b, n, "%.2f", v);
    return b;
}

/* ---- axes ---------------------------------------------------------------- */

/* 1, 2 or 5 times a power of ten: the least at or above raw (up), else the
 * greatest at or below it. */
static double nice_125(double raw, int up)
{
    if (raw <= 0) return 1;
    double e = pow(10, floor(log10(raw))), m = raw / e;
    if (up) m = m <= 1 + 1e-9 ? 1 : m <= 2 + 1e-9 ? 2 : m <= 5 + 1e-9 ? 5 : 10;
    else m = m >= 5 - 1e-9 ? 5 : m >= 2 - 1e-9 ? 2 : 1;
    return m * e;
}

/* Linear axis from 0 to a round value at or above hi, about 5 ticks. */
void svg_axis_linear(svg_axis_t *a, double hi, double empty_hi)
{
    if (!(hi > 0)) hi = empty_hi;
    a->log = 0;
    a->lo = 0;
    a->step = nice_125(hi / 5, 1);
    a->hi = ceil(hi / a->step - 1e-9) * a->step;
}

/* Log axis over [lo, hi] widened to 1-2-5 values. */
void svg_axis_log(svg_axis_t *a, double lo, double hi)
{
    if (lo < 1) lo = 1;
    if (hi < lo) hi = lo;
    a->log = 1;
    a->step = 0;
    a->lo = nice_125(lo, 0);
    a->hi = nice_125(hi, 1);
    if (a->hi <= a->lo) a->hi = nice_125(a->lo * 1.01, 1);
}

double svg_axis_pos(const svg_axis_t *a, double v)
{
    double t;
    if (a->log) {
        if (v < a->lo) v = a->lo;
        t = (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    } else {
        t = (v - a->lo) / (a->hi - a->lo);
    }
    return a->p0 + t * (a->p1 - a->p0);
}

/* Tick values into t[max]; returns how many. */
int svg_axis_ticks(const svg_axis_t *a, double *t, int max)
{
    int n = 0;
    if (!a->log) {
        for (double v = a->lo; v <= a->hi + a->step * 1e-6 && n < max; v = a->lo + n * a->step) t[n++] = v;
        return n;
    }
    double decades = log10(a->hi) - log10(a->lo);
    static const double m125[] = { 1, 2, 5 };
    for (double e = pow(10, floor(log10(a->lo) + 1e-9)); e <= a->hi * 1.0001 && n < max; e *= 10)
        for (int i = 0; i < 3 && n < max; i++) {
            double v = m125[i] * e;
            if (v < a->lo * 0.9999 || v > a->hi * 1.0001) continue;
            if (decades > 3 && i) continue;      /* long spans: powers of ten only */
            t[n++] = v;
        }
    return n;
}

/* ---- charts -------------------------------------------------------------- */

void svg_chart_init(svg_chart_t *c, FILE *f, int right_axis)
{
    memset(c, 0, sizeof *c);
    c->f = f;
    c->l = 70;
    c->r = SVG_CHART_W - (right_axis ? 70 : 24);
    c->t = 44;
    c->b = SVG_CHART_H - 44;
    c->x.p0 = c->l;
    c->x.p1 = c->r;
    c->y.p0 = c->y2.p0 = c->b;
    c->y.p1 = c->y2.p1 = c->t;
}

/* Horizontal grid lines and labels of a y axis (left or right side). */
void svg_chart_yaxis(svg_chart_t *c, const svg_axis_t *a, svg_tick_fmt_t fmt, int right, const char *title,
                     const char *color)
{
    double t[32];
    char b[32];
    int n = svg_axis_ticks(a, t, 32);
    for (int i = 0; i < n; i++) {
        double y = svg_axis_pos(a, t[i]);
        if (!right)
            fprintf(c->f, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", c->l, c->r, y, y);
        fprintf(c->f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" dy=\"4\">%s</text>\n",
                right ? c->r + 8 : c->l - 8, y, right ? "start" : "end", fmt(b, sizeof b, t[i]));
    }
    double x = right ? c->r + 56 : c->l - 56, y = (c->t + c->b) / 2;
    fprintf(c->f, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                  "transform=\"rotate(%d %.1f %.1f)\"%s%s%s>", x, y, right ? 90 : -90, x, y,
            color ? " style=\"fill:" : "", color ? color : "", color ? "\"" : "");
    svg_escape(c->f, title);
    fprintf(c->f, "%s</text>\n", a->log ? " (log scale)" : "");
}

/* A labelled tick on the x axis at value v: a grid line across the plot
 * (grid) or a short mark below it. */
void svg_chart_xtick(svg_chart_t *c, double v, int grid, const char *label)
{
    double x = svg_axis_pos(&c->x, v);
    fprintf(c->f, "<line class=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                  "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
            grid ? "grid" : "tickmark", x, x, grid ? c->t : c->b, grid ? c->b : c->b + 5, x, c->b + 18, label);
}

/* The x axis's title, centred below the ticks. */
void svg_chart_xtitle(svg_chart_t *c, const char *title)
{
    fprintf(c->f, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
            (c->l + c->r) / 2, SVG_CHART_H - 6, title);
}

/* Time axis along the bottom: ticks at round numbers of seconds. */
void svg_chart_xtime(svg_chart_t *c, double span)
{
    static const double steps[] = { 1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600,
                                    7200, 10800, 21600, 43200, 86400 };
    double step = steps[sizeof steps / sizeof steps[0] - 1];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (span / steps[i] <= 10) { step = steps[i]; break; }
    char b[32];
    for (double v = 0; v <= span + 1e-9; v += step) svg_chart_xtick(c, v, 0, svg_tick_secs(b, sizeof b, v));
    svg_chart_xtitle(c, "time since start");
}

void svg_chart_frame(svg_chart_t *c)
{
    fprintf(c->f, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                  "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
            c->l, c->r, c->b, c->b, c->l, c->l, c->t, c->b);
}

/* A legend row above the plot area. */
void svg_chart_legend(svg_chart_t *c, const svg_legend_item_t *it, size_t n)
{
    double x = c->l;
    fputs("<g class=\"legend\">", c->f);
    for (size_t i = 0; i < n; i++) {
        fprintf(c->f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"18\" y2=\"18\" stroke=\"%s\" stroke-width=\"3\"%s%s%s/>"
                      "<text x=\"%.1f\" y=\"22\">", x, x + 22, it[i].color,
                it[i].dash ? " stroke-dasharray=\"" : "", it[i].dash ? it[i].dash : "", it[i].dash ? "\"" : "",
                x + 28);
        svg_escape(c->f, it[i].label);
        fputs("</text>", c->f);
        x += 28 + 7.2 * (double)strlen(it[i].label) + 22;
    }
    fputs("</g>\n", c->f);
}

/* A polyline through (xs[i], ys[i]); a NAN y breaks it. */
void svg_chart_line(svg_chart_t *c, const svg_axis_t *ya, const double *xs, const double *ys, size_t n,
                    const char *color, double width, const char *dash, const char *cls)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && isnan(ys[i])) i++;
        if (i >= n) break;
        fprintf(c->f, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" "
                      "stroke-linejoin=\"round\"%s%s%s points=\"", cls, color, width,
                dash ? " stroke-dasharray=\"" : "", dash ? dash : "", dash ? "\"" : "");
        size_t start = i;
        for (; i < n && !isnan(ys[i]); i++)
            fprintf(c->f, "%s%.1f,%.1f", i > start ? " " : "", svg_axis_pos(&c->x, xs[i]), svg_axis_pos(ya, ys[i]));
        if (i - start == 1) /* a lone point: make it visible */
            fprintf(c->f, " %.1f,%.1f", svg_axis_pos(&c->x, xs[start]) + 0.5, svg_axis_pos(ya, ys[start]));
        fputs("\"/>\n", c->f);
    }
}

/* Dots on the points of a short series, each with a tooltip: a lone
 * second shows up, and a reader can hover for the exact value. */
#define SVG_DOTS_MAX 60
void svg_chart_dots(svg_chart_t *c, const svg_axis_t *ya, const double *xs, const double *ys, size_t n,
                    const char *color, const char *label, svg_tick_fmt_t fmt, const char *unit)
{
    if (n > SVG_DOTS_MAX) return;
    char b[32];
    for (size_t i = 0; i < n; i++) {
        if (isnan(ys[i])) continue;
        fprintf(c->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>", svg_axis_pos(&c->x, xs[i]),
                svg_axis_pos(ya, ys[i]), color);
        svg_escape(c->f, label);
        fprintf(c->f, ", second %zu: %s%s</title></circle>\n", i + 1, fmt(b, sizeof b, ys[i]), unit);
    }
}

/* The area under a series (down to the x axis), filled lightly. */
void svg_chart_area(svg_chart_t *c, const svg_axis_t *ya, const double *xs, const double *ys, size_t n,
                    const char *color)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && isnan(ys[i])) i++;
        if (i >= n) break;
        fprintf(c->f, "<polygon fill=\"%s\" fill-opacity=\"0.08\" stroke=\"none\" points=\"%.1f,%.1f", color,
                svg_axis_pos(&c->x, xs[i]), c->b);
        for (; i < n && !isnan(ys[i]); i++) fprintf(c->f, " %.1f,%.1f", svg_axis_pos(&c->x, xs[i]), svg_axis_pos(ya, ys[i]));
        fprintf(c->f, " %.1f,%.1f\"/>\n", svg_axis_pos(&c->x, xs[i - 1]), c->b);
    }
}

/* A message in the middle of an empty chart. */
void svg_chart_empty(svg_chart_t *c, const char *msg)
{
    fprintf(c->f, "<text class=\"empty\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
            (c->l + c->r) / 2, (c->t + c->b) / 2, msg);
}

void svg_chart_open(FILE *f, const char *id, const char *label)
{
    fprintf(f, "<svg id=\"%s\" class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\"", id, SVG_CHART_W,
            SVG_CHART_H, label);
}
