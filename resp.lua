local n = 0
function response(status, headers, body)
  n = n + 1
  if n == 1 then print(status, headers["Content-Length"], #body) end
end
function done(summary, latency, requests)
  print("done", summary.requests, latency.min, latency.max, latency:percentile(50), #latency, latency(1))
end
