function response(status, headers, body)
  local x = nil
  return x.y
end
