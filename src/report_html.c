/* report_html.c - a self-contained HTML page with inline SVG charts. */
#include "report.h"

#include <errno.h>

int report_html(FILE *f, const report_run_t *run)
{
    (void)run;
    fputs("<!doctype html><title>barrage</title><p>HTML report: not written yet</p>\n", f);
    return ferror(f) ? -EIO : 0;
}
