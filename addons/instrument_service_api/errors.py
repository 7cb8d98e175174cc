# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Every machine code of an error answer: its HTTP status and what it
means. Each operation answers a subset, which its declaration (api.Route)
gives and its description in the document lists: the frame refuses to
answer a code the operation does not list (a 500 in the tests, a logged
error in production).

Every error answer is {"error": {"code", "message", "fields"?,
"request_id"}}: request_id is the id of the request, also in the header
X-Request-Id of the answer (tracing.py), which finds it in the logs."""

CODES = {
    'invalid_json': (400, "The body is not JSON, or not a JSON object."),
    'bad_request': (400, "The request is malformed (e.g. a broken "
        "multipart body)."),
    'unauthorized': (401, "The token is missing, invalid, expired or "
        "revoked: log in again."),
    'wechat_invalid_code': (401, "The code of wx.login is invalid or "
        "expired (WeChat 40029 or 40163): call wx.login again."),
    'wechat_not_linked': (401, "No active engineer has linked this WeChat "
        "account: log in with the login and password, then link it (POST "
        "/auth/wechat/link)."),
    'forbidden': (403, "The caller may not do this."),
    'wechat_blocked': (403, "WeChat refused this user as high risk "
        "(WeChat 40226)."),
    'not_found': (404, "No such resource, or not one of the caller's."),
    'already_taken': (409, "Another engineer accepted the order first."),
    'wechat_already_linked': (409, "This WeChat account is linked to "
        "another user: unlink it there first (in that user's app, or by "
        "the staff on the engineer form)."),
    'at_capacity': (409, "The engineer has as many orders in progress as "
        "allowed."),
    'step_not_allowed': (409, "The order is not at a step where this can "
        "be done (it moved on, waits for someone else, or was cancelled); "
        "read it again."),
    'file_too_large': (413, "The file is over 10 MB."),
    'request_too_large': (413, "The JSON body is over 1 MB."),
    'unsupported_media_type': (415, "The body is not "
        "application/json."),
    'unsupported_file_type': (415, "The file is not of an accepted type "
        "(recognised by its content, not its name)."),
    'invalid_field': (422, "A field is missing or wrong: `fields` names "
        "each one with a code and a message to show beside it."),
    'idempotency_key_reused': (422, "This Idempotency-Key was used for "
        "another request (another body or operation): make a new key for "
        "a new request."),
    'invalid_evidence': (422, "The step lacks evidence its workflow "
        "requires now (the action's `fields` say which), or has evidence "
        "it refuses; `fields` names each one."),
    'invalid_order': (422, "The order is incomplete; `fields` names what "
        "is missing."),
    'validation_error': (422, "A value is refused by the records' own "
        "rules."),
    'empty_file': (422, "The file is empty."),
    'image_too_large': (422, "The photo has too many pixels (over 60 "
        "megapixels)."),
    'corrupt_file': (422, "The photo cannot be read."),
    'rate_limited': (429, "Too many attempts: wait Retry-After seconds."),
    'wechat_rate_limited': (429, "WeChat rate limits the logins (WeChat "
        "45011): retry after Retry-After seconds."),
    'wechat_error': (502, "WeChat answered another error (its errcode is "
        "in the message)."),
    'wechat_unavailable': (502, "WeChat could not be reached or answered "
        "something unreadable."),
    'busy': (503, "The service is busy (rows locked by other requests): "
        "retry after Retry-After seconds."),
    'database_unavailable': (503, "The service cannot reach its database "
        "(restarting, down): retry after Retry-After seconds; a write may "
        "or may not have been applied: send it again with the same "
        "Idempotency-Key."),
    'not_configured': (503, "The server is not set up for this (e.g. no "
        "WeChat appid, no company)."),
    'wechat_busy': (503, "WeChat is busy (WeChat -1): retry after "
        "Retry-After seconds."),
    }

# Answered for any path, not by an operation: unknown paths and methods
NOT_AN_OPERATION = {
    'method_not_allowed': (405, "The path exists with other methods "
        "(Allow lists them)."),
    }


def status(code):
    return (CODES.get(code) or NOT_AN_OPERATION[code])[0]


def by_status(codes):
    "{status: [codes]} of codes"
    result = {}
    for code in sorted(codes):
        result.setdefault(status(code), []).append(code)
    return result
