-- wrk script: POST a form body with a cookie. The benchmark passes them through the environment:
--   WRK_BODY (urlencoded form), WRK_COOKIE (the Cookie header value).
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = os.getenv("WRK_COOKIE")
