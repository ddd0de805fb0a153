/* test_browser.c: report.html as a person sees it, in headless Chromium, at
 * 1,280 and 800 px wide: the page never scrolls sideways, at 1,280 px every
 * table fits its box, chart labels do not overlap, the page loads nothing
 * (no request leaves it), and its picture is not blank.
 *
 * The page is the report of tests/fixtures/report/matrix: a full-matrix demo
 * run (evals/demo-matrix.json with --limit 24, against shadowsim --seed 7),
 * then `sweep --max-policies 40`; its long model names and eleven-column
 * swaps table are what overflowed at 1,280 px, and its sweep chart labels
 * a frontier and a recommended policy. Chromium comes from
 * scripts/install-deps.sh (Debian package chromium), which `make test` runs
 * first; without it the test fails, it does not skip.
 *
 * How each fact is measured:
 * - overflow and label overlap: a copy of the page with a small script
 *   appended writes document.documentElement's scrollWidth and clientWidth,
 *   every table box that scrolls, every pair of chart labels whose boxes
 *   intersect and the count of resources the page loaded into a <pre>,
 *   read back with --dump-dom (the page itself has no script);
 * - no request: the copy starts with a Content-Security-Policy that allows
 *   nothing to load (inline style and the probe's script only) and records
 *   every blocked load; the probe also counts the resources the page loaded
 *   (Resource Timing lists failed loads too), and both must be none; the
 *   host resolver maps every name to nowhere besides, so a miss cannot
 *   reach the network;
 * - not blank: the screenshot's PNG is decoded (tests/support/png_colours.py,
 *   python3's zlib) and its distinct colours counted.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "../support/files.h"

#define FIX "tests/fixtures/report/matrix"

/* Bounded: a render takes a few seconds (tens on a loaded machine); a hung
 * browser is killed after two minutes. */
#define CHROMIUM                                                                                   \
	"timeout -k 5 120 chromium --headless --no-sandbox --disable-gpu "                         \
	"--disable-background-networking --disable-component-update --no-first-run "               \
	"--disable-sync --disable-default-apps --mute-audio --hide-scrollbars "                    \
	"--disable-dev-shm-usage --disable-extensions --no-pings "                                 \
	"--host-resolver-rules='MAP * ~NOTFOUND'"

/* Put first in <head>: nothing may load (a blocked load is recorded);
 * inline style and the probe's script are the only things allowed. */
static const char guard[] =
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'\"><script>window.blocked = [];"
    "document.addEventListener('securitypolicyviolation', function (e) {"
    "window.blocked.push(e.violatedDirective + ' ' + e.blockedURI); });</script>";

/* Appended: once the page has loaded, writes what it measured into a <pre>. */
static const char probe[] =
    "<script>addEventListener('load', function () {\n"
    "  var d = document.documentElement, boxes = [], clash = [], labels = 0;\n"
    "  document.querySelectorAll('.scroll').forEach(function (e) {\n"
    "    if (e.scrollWidth > e.clientWidth)\n"
    "      boxes.push((e.closest('section') || {}).id + ' ' + e.scrollWidth + '>' +\n"
    "                 e.clientWidth);\n"
    "  });\n"
    "  document.querySelectorAll('svg').forEach(function (svg) {\n"
    "    var r = [].map.call(svg.querySelectorAll('text.lab'), function (t) {\n"
    "      return [t.textContent, t.getBoundingClientRect()];\n"
    "    });\n"
    "    labels += r.length;\n"
    "    for (var i = 0; i < r.length; i++)\n"
    "      for (var j = i + 1; j < r.length; j++) {\n"
    "        var a = r[i][1], b = r[j][1];\n"
    "        if (a.left < b.right && b.left < a.right && a.top < b.bottom &&\n"
    "            b.top < a.bottom)\n"
    "          clash.push(r[i][0] + ' / ' + r[j][0]);\n"
    "      }\n"
    "  });\n"
    "  var out = document.createElement('pre');\n"
    "  out.textContent = 'PROBE ' + d.scrollWidth + ' ' + d.clientWidth + ' ' +\n"
    "    performance.getEntriesByType('resource').length + ' ' + labels +\n"
    "    ' boxes=[' + boxes.join('; ') + '] clash=[' + clash.join('; ') + ']' +\n"
    "    ' blocked=[' + window.blocked.join('; ') + ']';\n"
    "  document.body.appendChild(out);\n"
    "});</script>\n";

/* The folder with the fixture run and its report (shadoweval report, the
 * sanitized binary), and a copy of the page with the probe appended. */
static char *make_pages(void)
{
	char *dir = test_mkdtemp("browser");
	struct buf out = {0};
	int rc = test_sh(&out, "cp " FIX "/* '%s'/ && '%s'/shadoweval report '%s'", dir,
			 test_bin_dir(), dir);
	cr_assert_eq(rc, 0, "report: %s", out.data);
	char path[1024];
	snprintf(path, sizeof(path), "%s/report.html", dir);
	size_t len;
	char *html = test_read_file(path, &len);
	cr_assert(!strstr(html, "<script"), "the report itself must have no script");
	const char *head = strstr(html, "<head>");
	cr_assert(head, "no <head> in the report");
	size_t at = (size_t)(head - html) + strlen("<head>");
	snprintf(path, sizeof(path), "%s/probe.html", dir);
	FILE *f = fopen(path, "wb");
	cr_assert(f);
	cr_assert_eq(fwrite(html, 1, at, f), at);
	cr_assert(fputs(guard, f) >= 0);
	cr_assert_eq(fwrite(html + at, 1, len - at, f), len - at);
	cr_assert(fputs(probe, f) >= 0);
	cr_assert_eq(fclose(f), 0);
	free(html);
	buf_free(&out);
	return dir;
}

/* The distinct colours of the screenshot (and its width). */
static int colours_of(const char *png, int *width)
{
	struct buf out = {0};
	int rc = test_sh(&out, "python3 tests/support/png_colours.py '%s'", png);
	cr_assert_eq(rc, 0, "png_colours: %s", out.data);
	int height = 0, colours = 0;
	cr_assert_eq(sscanf(out.data, "%d %d %d", width, &height, &colours), 3, "%s", out.data);
	cr_expect_gt(height, 0);
	buf_free(&out);
	return colours;
}

/* Renders the probe copy at width w (the DOM dumped, a screenshot taken)
 * and checks: no sideways scroll, nothing loaded or blocked, chart labels
 * apart, a picture that is not blank; at 1,280 px every table fits its box. */
static void check_render(const char *dir, int w)
{
	struct buf out = {0};
	int rc = test_sh(&out,
			 CHROMIUM " --user-data-dir='%s/profile-%d' --window-size=%d,900 "
				  "--screenshot='%s/shot-%d.png' --dump-dom 'file://%s/probe.html' "
				  "2>/dev/null",
			 dir, w, w, dir, w, dir);
	cr_assert_eq(rc, 0, "chromium at %d px failed (%d): %.400s", w, rc, out.data);
	const char *p = strstr(out.data, "<pre>PROBE "); /* the result, not the script */
	cr_assert(p, "no probe line at %d px: did the page load? %.300s", w, out.data);
	p += strlen("<pre>");
	int scroll, client, resources, labels;
	cr_assert_eq(sscanf(p, "PROBE %d %d %d %d", &scroll, &client, &resources, &labels), 4,
		     "%.300s", p);
	cr_expect_eq(client, w, "the viewport is %d px, not %d", client, w);
	cr_expect_leq(scroll, client, "the page scrolls sideways at %d px: %d > %d", w, scroll,
		      client);
	cr_expect_eq(resources, 0, "the page loaded %d resources: %.600s", resources, p);
	cr_expect(strstr(p, "blocked=[]"), "the page tried to load something: %.600s", p);
	cr_expect_gt(labels, 2, "only %d chart labels at %d px", labels, w);
	const char *clash = strstr(p, "clash=[");
	cr_assert(clash);
	cr_expect(!strncmp(clash, "clash=[]", 8), "overlapping chart labels at %d px: %.600s", w,
		  clash);
	if (w >= 1280)
		cr_expect(strstr(p, "boxes=[]"), "a table does not fit at %d px: %.300s", w, p);
	char png[1100];
	snprintf(png, sizeof(png), "%s/shot-%d.png", dir, w);
	int width = 0, colours = colours_of(png, &width);
	cr_expect_eq(width, w, "the screenshot is %d px wide, not %d", width, w);
	/* a blank page has one colour; text, tables and charts have hundreds */
	cr_expect_gt(colours, 50, "the page looks blank at %d px: %d colours", w, colours);
	buf_free(&out);
}

static void rm_rf(char *dir)
{
	cr_assert_eq(test_sh(NULL, "rm -rf '%s'", dir), 0);
	free(dir);
}

Test(browser, report_fits_1280_px_with_labels_apart_and_loads_nothing, .timeout = 300)
{
	char *dir = make_pages();
	check_render(dir, 1280);
	rm_rf(dir);
}

Test(browser, report_never_scrolls_sideways_at_800_px, .timeout = 300)
{
	char *dir = make_pages();
	check_render(dir, 800);
	rm_rf(dir);
}
