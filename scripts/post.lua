-- post.lua: POST a JSON body with a content type.

wrk.method = "POST"
wrk.body = '{"name": "ann", "tags": ["a", "b"]}'
wrk.headers["Content-Type"] = "application/json"
