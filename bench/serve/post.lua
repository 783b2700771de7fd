-- wrk script: every request is the same moderation POST (body from the BODY environment variable).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BODY")
