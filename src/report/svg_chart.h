/* svg_chart.h - a small kit for inline SVG charts: axes (linear and log,
 * 1-2-5 ticks), a plot area with grid, ticks and titles, polylines, areas,
 * dots with tooltips, legends. It knows nothing of barrage's statistics:
 * the page (report_html.c) chooses which charts to draw with which data.
 * Everything is written to the chart's FILE; text that may come from a
 * user goes through svg_escape. No allocation. */
#ifndef BARRAGE_SVG_CHART_H
#define BARRAGE_SVG_CHART_H

#include <stddef.h>
#include <stdio.h>

/* Formats a tick value into b[n] and returns b. */
typedef char *(*svg_tick_fmt_t)(char *, size_t, double);

/* An axis: a value range mapped onto a pixel range. */
typedef struct svg_axis {
    double lo, hi;   /* values at the two ends */
    double step;     /* linear tick step (0 for log) */
    int log;         /* log10 scale */
    double p0, p1;   /* pixel positions of lo and hi */
} svg_axis_t;

#define SVG_CHART_W 1040.0   /* viewBox width */
#define SVG_CHART_H 320.0    /* viewBox height */

/* One chart being drawn: where it goes, its plot area and its axes. */
typedef struct svg_chart {
    FILE *f;
    double l, r, t, b;   /* plot area: left, right, top, bottom (px) */
    svg_axis_t x, y, y2; /* x, the left y axis, the right one */
} svg_chart_t;

/* An entry of a legend row. */
typedef struct svg_legend_item {
    const char *label;
    const char *color;
    const char *dash;   /* stroke-dasharray or NULL */
} svg_legend_item_t;

/* ---- text ---- */

/* HTML-escape s (safe in text and in quoted attributes); control characters become U+FFFD. */
void svg_escape(FILE *f, const char *s);
/* Tick labels: short, no trailing zeros ("2.5ms", "500us", "1s"): a time in microseconds. */
char *svg_tick_us(char *b, size_t n, double us);
/* A count with a metric suffix: "500", "2.5k", "3M", "1G". */
char *svg_tick_count(char *b, size_t n, double v);
/* A number of seconds: "45s", "1m30s", "2m", "1h". */
char *svg_tick_secs(char *b, size_t n, double s);
/* A rate with two decimals: "12.50". */
char *svg_tick_rate(char *b, size_t n, double v);

/* ---- axes ---- */

/* Linear axis from 0 to a round value at or above hi (empty_hi when hi is not positive), about 5 ticks. */
void svg_axis_linear(svg_axis_t *a, double hi, double empty_hi);
/* Log axis over [lo, hi] widened to 1-2-5 values. */
void svg_axis_log(svg_axis_t *a, double lo, double hi);
/* The pixel position of value v on the axis (below lo clamps to lo on a log axis). */
double svg_axis_pos(const svg_axis_t *a, double v);
/* Tick values into t[max]; returns how many. */
int svg_axis_ticks(const svg_axis_t *a, double *t, int max);

/* ---- charts ---- */

/* Open the <svg> element (id, class chart, the viewBox, aria-label), leaving the tag open for attributes. */
void svg_chart_open(FILE *f, const char *id, const char *label);
/* Start a chart on f: the plot area (room for a right axis or not), axes mapped onto it. */
void svg_chart_init(svg_chart_t *c, FILE *f, int right_axis);
/* Horizontal grid lines and labels of a y axis (left or right side), its title rotated beside it. */
void svg_chart_yaxis(svg_chart_t *c, const svg_axis_t *a, svg_tick_fmt_t fmt, int right, const char *title,
                     const char *color);
/* A labelled tick on the x axis at value v: a grid line across the plot
 * (grid) or a short mark below it. */
void svg_chart_xtick(svg_chart_t *c, double v, int grid, const char *label);
/* The x axis's title, centred below the ticks. */
void svg_chart_xtitle(svg_chart_t *c, const char *title);
/* Time axis along the bottom: ticks at round numbers of seconds over [0, span]. */
void svg_chart_xtime(svg_chart_t *c, double span);
/* The two axis lines, left and bottom of the plot area. */
void svg_chart_frame(svg_chart_t *c);
/* A legend row above the plot area. */
void svg_chart_legend(svg_chart_t *c, const svg_legend_item_t *it, size_t n);
/* A polyline through (xs[i], ys[i]) against y axis ya; a NAN y breaks it. */
void svg_chart_line(svg_chart_t *c, const svg_axis_t *ya, const double *xs, const double *ys, size_t n,
                    const char *color, double width, const char *dash, const char *cls);
/* Dots on the points of a short series (60 at most, else none), each with a
 * tooltip "LABEL, second N: VALUE UNIT": a lone second shows up, and a
 * reader can hover for the exact value. */
void svg_chart_dots(svg_chart_t *c, const svg_axis_t *ya, const double *xs, const double *ys, size_t n,
                    const char *color, const char *label, svg_tick_fmt_t fmt, const char *unit);
/* The area under a series (down to the x axis), filled lightly. */
void svg_chart_area(svg_chart_t *c, const svg_axis_t *ya, const double *xs, const double *ys, size_t n,
                    const char *color);
/* A message in the middle of an empty chart. */
void svg_chart_empty(svg_chart_t *c, const char *msg);

#endif
