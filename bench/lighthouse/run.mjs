// Lighthouse (mobile profile, the default) on one URL in Debian's Chromium; prints a JSON summary.
// Usage: node run.mjs URL   (called by bench/bench_student_app.py)
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';

const url = process.argv[2];
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
  chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const result = await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error',
    onlyCategories: ['performance', 'accessibility', 'best-practices', 'seo'] });
  const lhr = result.lhr;
  const requests = lhr.audits['network-requests']?.details?.items ?? [];
  const scripts = requests.filter((r) => r.resourceType === 'Script');
  console.log(JSON.stringify({
    lighthouse_version: lhr.lighthouseVersion, url: lhr.finalDisplayedUrl, form_factor: lhr.configSettings.formFactor,
    scores: Object.fromEntries(Object.entries(lhr.categories).map(([k, c]) => [k, Math.round(c.score * 100)])),
    time_to_interactive_ms: Math.round(lhr.audits.interactive?.numericValue ?? -1),
    first_contentful_paint_ms: Math.round(lhr.audits['first-contentful-paint']?.numericValue ?? -1),
    largest_contentful_paint_ms: Math.round(lhr.audits['largest-contentful-paint']?.numericValue ?? -1),
    total_blocking_time_ms: Math.round(lhr.audits['total-blocking-time']?.numericValue ?? -1),
    js_transfer_kb: Math.round(scripts.reduce((n, r) => n + (r.transferSize ?? 0), 0) / 102.4) / 10,
    requests: requests.length,
    failed_audits: Object.values(lhr.audits).filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode === 'binary')
      .map((a) => a.id),
  }));
} finally {
  await chrome.kill();
}
