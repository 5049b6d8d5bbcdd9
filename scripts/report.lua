-- report.lua: print a custom summary when the run is done (in the main
-- thread, with every thread's results merged).

function done(summary, latency, requests)
   local secs = summary.duration / 1e6
   io.write("------------------------------\n")
   io.write(string.format("requests   %d in %.2fs (%.0f/s)\n", summary.requests, secs, summary.requests / secs))
   io.write(string.format("errors     connect %d, read %d, write %d, status %d, timeout %d\n",
      summary.errors.connect, summary.errors.read, summary.errors.write,
      summary.errors.status, summary.errors.timeout))
   for _, p in ipairs({ 50, 90, 99, 99.9 }) do
      io.write(string.format("latency    p%-5g %8.0f us\n", p, latency:percentile(p)))
   end
   io.write(string.format("latency    min %d us, max %d us, mean %.1f us\n", latency.min, latency.max, latency.mean))
end
