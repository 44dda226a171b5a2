#!/usr/bin/env python3
# Writes Sources/API/openapi.json (the OpenAPI 3.1 document the server embeds and serves). Edit here, run, commit
# both; APITests/OpenAPITests checks that the document and the route table list the same routes and permissions.
import json
ref = lambda n: {"$ref": f"#/components/schemas/{n}"}
S = lambda **kw: kw
string = {"type": "string"}
integer = {"type": "integer"}
id_ = {"type": "integer", "format": "int64", "minimum": 1}
time = {"type": "string", "format": "date-time"}
opt_time = time
strs = {"type": "array", "items": string}

def obj(props, required=(), description=None):
    o = {"type": "object", "properties": props}
    if required: o["required"] = list(required)
    if description: o["description"] = description
    return o

schemas = {
 "Problem": obj({"type": string, "title": string, "status": integer, "detail": string}, ["type", "title", "status", "detail"]),
 "Device": obj({"id": id_, "name": string, "oui": string, "product_class": string, "serial": string, "manufacturer": string,
    "model": string, "software_version": string, "hardware_version": string, "profile": string, "data_model": string,
    "organisation_id": id_, "groups": strs, "tags": strs, "location": string, "description": string,
    "status": {"type": "string", "enum": ["online", "offline", "never"]}, "ip_address": string, "connection_request_url": string,
    "inform_interval": integer, "last_inform": time, "last_boot": time, "created_at": time, "onboarded_at": time,
    "credential_conflict": {"type": "boolean", "description": "two parties hold credentials of this device (a re-bootstrap by someone else): secrets are withheld until an admin resolves it"},
    "rebootstrap": {"type": "string", "enum": ["none", "awaiting_approval", "approved"], "description": "quarantine of re-bootstraps (profile rebootstrap = \"quarantine\")"}},
    ["id", "name", "oui", "serial", "organisation_id", "groups", "tags", "status"]),
 "DevicePage": obj({"devices": {"type": "array", "items": ref("Device")}, "next_cursor": string}, ["devices"]),
 "DeviceDetail": obj({"device": ref("Device"), "recent_informs": {"type": "array", "items": obj({"at": time, "events": strs, "remote": string})},
    "open_tasks": {"type": "array", "items": ref("Task")}, "reachability": ref("Reachability")}, ["device", "recent_informs", "open_tasks"]),
 "Reachability": obj({"supported_methods": strs, "wake_order": {"type": "array", "items": {"type": "string", "enum": ["xmpp", "udp", "http"]}},
    "udp_connection_request_address": string, "stun_enabled": {"type": "boolean"}, "nat_detected": {"type": "boolean"},
    "xmpp_jid": string,
    "stun_binding": obj({"address": string, "first_seen": time, "last_request": time, "requests": integer, "binding_changes": integer,
                         "rfc5389": {"type": "boolean"}}, ["address", "requests", "binding_changes", "rfc5389"]),
    "last_wake": obj({"at": time, "woke_by": {"type": "string", "enum": ["xmpp", "udp", "http"]}, "millis": integer,
                      "tried": {"type": "array", "items": obj({"method": string, "outcome": string, "millis": integer}, ["method", "outcome", "millis"])}},
                     ["millis", "tried"])},
    ["supported_methods", "wake_order", "udp_connection_request_address", "stun_enabled", "nat_detected", "xmpp_jid"],
    "How Corral can wake the device: methods, its XMPP JID, the STUN binding its server saw, the last wake-up (what was tried, what woke it)."),
 "DevicePatch": obj({"groups": {"type": "array", "items": string, "maxItems": 50}, "tags": {"type": "array", "items": string, "maxItems": 50},
    "location": {"type": "string", "maxLength": 200}, "description": {"type": "string", "maxLength": 1000}}),
 "DeviceMove": obj({"organisation_id": id_}, ["organisation_id"]),
 "Parameter": obj({"path": string, "value": string, "type": string, "writable": {"type": "boolean"}, "secret": {"type": "boolean"}, "updated_at": time,
    "stale": {"type": "boolean", "description": "stored before the device's last factory reset and not read since"}},
    ["path", "value", "type", "secret"]),
 "ParameterValue": obj({"path": string, "value": string, "type": {"type": "string", "enum": ["string", "int", "unsignedInt", "long", "unsignedLong", "boolean", "dateTime", "base64", "hexBinary"]}}, ["path", "value"]),
 "TaskCreate": obj({"action": {"type": "string", "enum": ["get", "set", "refresh", "add_object", "delete_object", "reboot", "queued_transfers", "cancel_transfer"]},
    "command_key": {"type": "string", "maxLength": 32, "description": "cancel_transfer: the CommandKey of the queued transfer (its task's, corral-<id>)"},
    "paths": {"type": "array", "items": string, "description": "get: parameter or object paths, or aliases of the device's profile (wifi.ssid)"},
    "parameters": {"type": "array", "items": ref("ParameterValue"), "description": "set: values by path or profile alias (type defaults to the stored type, else string)"},
    "path": {"type": "string", "description": "refresh (a path or alias), add_object, delete_object"},
    "connection_request": {"type": "boolean", "description": "wake the CPE now and wait for the result"},
    "timeout": {"type": "integer", "minimum": 1, "maximum": 120, "description": "seconds to wait with connection_request (default 30)"}}, ["action"]),
 "RunOptions": obj({"connection_request": {"type": "boolean"}, "timeout": {"type": "integer", "minimum": 1, "maximum": 120}}),
 "DownloadCreate": obj({"file_id": id_, "url": {"type": "string", "format": "uri"}, "file_type": string, "file_size": {"type": "integer", "minimum": 0},
    "target_file_name": string, "connection_request": {"type": "boolean"}, "timeout": {"type": "integer", "minimum": 1, "maximum": 120},
    "window_start": {"type": "integer", "minimum": 0, "description": "a ScheduleDownload instead: the window opens this many seconds after the CPE gets it"},
    "window_end": {"type": "integer", "minimum": 60, "description": "and closes after this many (at least 60 s after window_start)"}}),
 "Task": obj({"id": id_, "device_id": id_, "action": string, "state": {"type": "string", "enum": ["pending", "sent", "waiting", "done", "fault", "cancelled"]},
    "request": {"type": "object"}, "attempts": integer, "created_at": time, "updated_at": time, "not_before": time,
    "result": obj({"values": {"type": "array", "items": ref("ParameterValue")}, "instance_number": integer, "status": integer}),
    "fault": obj({"code": integer, "message": string, "parameters": strs}), "connection_request_error": string},
    ["id", "device_id", "action", "state"]),
 "TaskList": obj({"tasks": {"type": "array", "items": ref("Task")}}, ["tasks"]),
 "Fault": obj({"id": id_, "device_id": id_, "task_id": id_, "source": string, "code": integer, "message": string, "detail": string, "at": time},
    ["id", "device_id", "source", "code", "message"]),
 "FaultPage": obj({"faults": {"type": "array", "items": ref("Fault")}, "next_cursor": string}, ["faults"]),
 "Profile": obj({"name": string, "description": string, "file": string, "priority": integer,
    "data_model": {"type": ["string", "null"], "enum": ["tr181", "tr098", None]},
    "match": obj({k: strs for k in ["manufacturer", "oui", "product_class", "model"]} | {"data_model": string}),
    "onboarding_username": string, "onboarding": {"type": "boolean", "description": "onboarding credentials are set (the password is never shown)"},
    "inform_interval": integer, "aliases": {"type": "object", "additionalProperties": string},
    "desired": {"type": "array", "items": obj({"name": string, "value": string, "type": string}, ["name", "value"])},
    "kpis": strs, "hooks": strs, "verify_after": integer,
    "quirks": {"type": "array", "items": {"type": "string", "enum": ["no_cookies", "reboot_without_commandkey", "string_values"]},
               "description": "quirk switches that are on"},
    "script": {"type": "string", "description": "the Lua source; admins only, on GET /profiles/{name}"}},
    ["name", "file", "aliases", "kpis", "hooks"]),
 "ProfileValidate": obj({"script": {"type": "string", "maxLength": 262144}, "file": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,60}\\.lua$",
    "description": "file name in the profiles directory (a loaded file of that name is replaced); default candidate.lua"}}, ["script"]),
 "ProfileValidation": obj({"valid": {"type": "boolean"}, "file": string,
    "problems": {"type": "array", "items": obj({"kind": {"type": "string", "enum": ["syntax", "runtime", "instruction-limit", "memory-limit", "invalid", "warning"]},
                                                  "message": string}, ["kind", "message"])},
    "profiles": {"type": "array", "items": ref("Profile")}}, ["valid", "file", "problems", "profiles"]),
 "ProfileList": obj({"profiles": {"type": "array", "items": ref("Profile")}}, ["profiles"]),
 "Count": obj({"key": string, "count": integer}, ["key", "count"]),
 "Analytics": obj({"total": integer, "by_status": {"type": "object", "additionalProperties": integer},
    **{k: {"type": "array", "items": ref("Count")} for k in ["by_manufacturer", "by_model", "by_software_version", "by_profile", "by_organisation"]}},
    ["total", "by_status"]),
 "File": obj({"id": id_, "name": string, "file_type": string, "organisation_id": id_, "size": integer, "sha256": string, "created_at": time,
    "uploaded_by": string, "download_url": string,
    "version": {"type": "string", "description": "firmware images: the SoftwareVersion it installs ('' for other files)"},
    "target_profile": {"type": "string", "description": "the profile it is for ('' = any)"},
    "target_model": {"type": "string", "description": "the ModelName (pattern with *) it is for ('' = any)"}, "notes": string},
    ["id", "name", "file_type", "size", "sha256", "download_url"]),
 "FileList": obj({"files": {"type": "array", "items": ref("File")}}, ["files"]),
 "FirmwareList": obj({"firmware": {"type": "array", "items": ref("File")}}, ["firmware"]),
 "RolloutCreate": obj({"version": {"type": "string", "minLength": 1, "maxLength": 64},
    "target": {"type": "string", "maxLength": 1000, "description": "key=value terms separated by spaces, all must hold: profile, model, software_version, manufacturer, group, tag, location, status, text ('' = every device)"},
    "waves": {"type": "string", "description": "cumulative percentages ending at 100, e.g. 10%,50%,100% (default 100%)"},
    "window": {"type": "string", "description": "daily window HH:MM-HH:MM in timezone (default: any time)"},
    "timezone": {"type": "string", "description": "IANA time zone of the window (default UTC), or device: each device's own clock (its Informs' UTC offset)"},
    "max_failure_rate": {"type": "number", "minimum": 0, "maximum": 1, "description": "the rollout stops itself above this (default 0.05)"},
    "concurrency": {"type": "integer", "minimum": 1, "maximum": 10000, "description": "devices downloading at once (default 50)"},
    "organisation_id": id_}, ["version"]),
 "Rollout": obj({"id": id_, "organisation_id": id_, "file_id": id_, "version": string, "target": string, "waves": {"type": "array", "items": integer},
    "window": {"type": ["string", "null"]}, "timezone": string, "max_failure_rate": {"type": "number"}, "concurrency": integer,
    "state": {"type": "string", "enum": ["running", "paused", "stopped", "cancelled", "finished"]}, "reason": string, "current_wave": integer,
    "rollback_of": {"type": ["integer", "null"]}, "created_at": time, "updated_at": time, "created_by": string,
    "total": integer, "pending": integer, "sent": integer, "upgraded": integer, "failed": integer, "skipped": integer, "cancelled": integer,
    "percent": integer, "failure_rate": {"type": "number"},
    "by_wave": {"type": "array", "items": obj({k: integer for k in ["wave", "percent", "total", "pending", "sent", "upgraded", "failed", "skipped", "cancelled"]})},
    "failures": {"type": "array", "items": obj({"device_id": id_, "device": string, "reason": string, "previous_version": string})}},
    ["id", "version", "state", "total", "percent", "by_wave"]),
 "WebhookCreate": obj({"url": {"type": "string", "maxLength": 2000, "description": "http:// or https:// URL that receives the events (POST, JSON); redirects are not followed"},
    "events": {"type": "array", "minItems": 1, "maxItems": 50, "items": {"type": "string"}, "description": "event kinds or patterns: device.boot, task.*, * (all)"},
    "secret": {"type": "string", "minLength": 16, "maxLength": 256, "description": "HMAC-SHA256 key of X-Corral-Signature (generated and shown once if absent)"},
    "description": {"type": "string", "maxLength": 500}, "enabled": {"type": "boolean"}, "organisation_id": id_}, ["url", "events"]),
 "WebhookPatch": obj({"url": {"type": "string", "maxLength": 2000}, "events": {"type": "array", "minItems": 1, "maxItems": 50, "items": {"type": "string"}},
    "secret": {"type": "string", "minLength": 16, "maxLength": 256}, "description": {"type": "string", "maxLength": 500}, "enabled": {"type": "boolean"}}),
 "Webhook": obj({"id": id_, "organisation_id": id_, "url": string, "events": {"type": "array", "items": string}, "enabled": {"type": "boolean"},
    "description": string, "created_at": time, "created_by": string,
    "secret": {"type": "string", "description": "only in the answer that created or replaced it"},
    "pending": integer, "delivered": integer, "failed": integer}, ["id", "organisation_id", "url", "events", "enabled"]),
 "WebhookList": obj({"webhooks": {"type": "array", "items": ref("Webhook")}, "events": {"type": "array", "items": string, "description": "the event kinds Corral emits"}},
    ["webhooks", "events"]),
 "WebhookDelivery": obj({"id": id_, "event_id": id_, "event": string, "state": {"type": "string", "enum": ["pending", "delivered", "failed"]},
    "attempts": integer, "last_status": integer, "last_error": string, "created_at": time, "next_attempt_at": {"type": ["string", "null"]},
    "finished_at": {"type": ["string", "null"]}, "body": {"type": "string", "description": "the JSON sent, byte for byte"}},
    ["id", "event_id", "event", "state", "attempts", "body"]),
 "WebhookDeliveryList": obj({"deliveries": {"type": "array", "items": ref("WebhookDelivery")}}, ["deliveries"]),
 "Queued": obj({"queued": {"type": "boolean"}}, ["queued"]),
 "OnboardingAttempt": obj({"id": id_, "first_at": time, "last_at": time, "count": integer, "address": string, "oui": string, "serial": string,
    "product_class": string, "username": {"type": "string", "description": "the username the CPE tried"},
    "reason": {"type": "string", "enum": ["unknown_username", "wrong_password", "basic_refused", "credentials_of_another_device", "own_credentials_required",
                                          "bad_oui", "malformed_inform", "client_certificate", "rebootstrap_quarantined", "credential_conflict", "tls_failure"]},
    "detail": string, "hint": {"type": "string", "description": "the usual causes and what to do"}, "device_id": {"type": ["integer", "null"]}},
    ["id", "count", "address", "reason", "hint"]),
 "OnboardingAttemptList": obj({"attempts": {"type": "array", "items": ref("OnboardingAttempt")},
    "not_listed": {"type": "string", "description": "what to check when a device is not listed at all"}}, ["attempts", "not_listed"]),
 "RolloutList": obj({"rollouts": {"type": "array", "items": ref("Rollout")}}, ["rollouts"]),
 "Backup": obj({"id": id_, "device_id": id_, "task_id": id_, "file_type": string, "size": integer, "sha256": string, "created_at": time,
    "restorable": {"type": "boolean", "description": "a configuration (restored by a Download of 3 Vendor Configuration File)"}},
    ["id", "device_id", "file_type", "size", "sha256"]),
 "BackupList": obj({"backups": {"type": "array", "items": ref("Backup")}}, ["backups"]),
 "BackupCreate": obj({"file_type": {"type": "string", "description": "config (default), log, or a TR-069 FileType"},
    "connection_request": {"type": "boolean"}, "timeout": {"type": "integer", "minimum": 1, "maximum": 120}}),
 "BackupDiff": obj({"from": id_, "to": id_, "text": {"type": "boolean"}, "same": {"type": "boolean"}, "diff": string}, ["from", "to", "text", "same", "diff"]),
 "ValidationCheck": obj({"name": {"type": "string", "enum": ["onboarded", "inventory", "reachable", "reads", "change", "reboot", "factory-reset"]},
    "passed": {"type": "boolean"}, "evidence": {"type": "string", "description": "what Corral saw (values, latencies, faults), or why the check could not run"},
    "duration_ms": integer}, ["name", "passed", "evidence", "duration_ms"]),
 "Validation": obj({"id": id_, "device_id": id_, "organisation_id": id_, "started_at": time, "finished_at": time,
    "passed": {"type": "boolean", "description": "every check passed: the launch sign-off"}, "passed_checks": integer, "failed_checks": integer,
    "include_factory_reset": {"type": "boolean"}, "created_by": string, "summary": string,
    "checks": {"type": "array", "items": ref("ValidationCheck")},
    "lines": {"type": "array", "items": string, "description": "the report as `corral validate` prints it: PASS/FAIL, check, evidence"}},
    ["id", "device_id", "passed", "checks", "lines"]),
 "ValidationList": obj({"validations": {"type": "array", "items": ref("Validation")}}, ["validations"]),
 "ValidationRun": obj({"include_factory_reset": {"type": "boolean", "description": "also factory-reset the device and check it onboards again as the same ID, keeping groups, location and description (admin role)"},
    "set": {"allOf": [ref("ParameterValue")], "description": "the configuration change: a path or profile alias and the value to set, read back and restore (default: the WiFi SSID, set to a random name)"},
    "timeout": {"type": "integer", "minimum": 1, "maximum": 300, "description": "seconds each step may wait for the device (default 60); reboot and factory reset get 3 times as long"}}),
 "Organisation": obj({"id": id_, "parent_id": id_, "name": string, "path": string, "created_at": time}, ["id", "name", "path"]),
 "OrganisationList": obj({"organisations": {"type": "array", "items": ref("Organisation")}}, ["organisations"]),
 "OrganisationCreate": obj({"name": {"type": "string", "minLength": 1, "maxLength": 100}, "parent_id": id_}, ["name"]),
 "OrganisationRename": obj({"name": {"type": "string", "minLength": 1, "maxLength": 100}}, ["name"]),
 "OrganisationMove": obj({"parent_id": id_}, ["parent_id"]),
 "User": obj({"id": id_, "username": string, "organisation_id": id_, "role": ref("Role"), "disabled": {"type": "boolean"}, "created_at": time},
    ["id", "username", "organisation_id", "role", "disabled"]),
 "Role": {"type": "string", "enum": ["viewer", "operator", "admin", "superadmin"]},
 "UserList": obj({"users": {"type": "array", "items": ref("User")}}, ["users"]),
 "UserCreate": obj({"username": {"type": "string", "minLength": 1, "maxLength": 64}, "password": {"type": "string", "minLength": 10, "maxLength": 256},
    "role": ref("Role"), "organisation_id": id_}, ["username", "password", "role"]),
 "UserPatch": obj({"role": ref("Role"), "organisation_id": id_, "password": {"type": "string", "minLength": 10, "maxLength": 256}, "disabled": {"type": "boolean"}}),
 "PasswordChange": obj({"current_password": string, "new_password": {"type": "string", "minLength": 10, "maxLength": 256}}, ["current_password", "new_password"]),
 "Token": obj({"id": id_, "name": string, "user_id": id_, "prefix": string, "organisation_id": id_, "role": ref("Role"), "created_at": time,
    "expires_at": time, "revoked_at": time, "last_used_at": time, "token": {"type": "string", "description": "only in the creation answer"}},
    ["id", "name", "user_id", "prefix", "organisation_id", "role"]),
 "TokenList": obj({"tokens": {"type": "array", "items": ref("Token")}}, ["tokens"]),
 "TokenCreate": obj({"name": {"type": "string", "minLength": 1, "maxLength": 100}, "role": ref("Role"), "organisation_id": id_,
    "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 365,
        "description": "At most 90 days for superadmin tokens, 180 for admin, 365 for operator and viewer; default 90."}}, ["name", "role"]),
 "Login": obj({"username": {"type": "string", "maxLength": 64}, "password": {"type": "string", "maxLength": 256},
    "totp_code": {"type": "string", "maxLength": 16, "description": "The current code of the user's authenticator app, when two-factor is on"},
    "recovery_code": {"type": "string", "maxLength": 32, "description": "Instead of totp_code: one of the user's one-time recovery codes"}},
    ["username", "password"]),
 "LoginAnswer": obj({"user": ref("User"), "csrf_token": string, "expires_at": time,
    "two_factor_enrolment_required": {"type": "boolean", "description": "The organisation requires two-factor for this admin: only enrolment answers until it is on"}},
    ["user", "csrf_token", "two_factor_enrolment_required"]),
 "AutomationList": obj({"automations": {"type": "array", "items": obj({"file": string, "handlers": {"type": "array", "items": string},
    "alerts": {"type": "array", "items": string, "description": "The file's alert{} rules: name, condition, for, severity"},
    "problems": {"type": "array", "items": string, "description": "Why the file or a handler is off (empty while all run)"}}, ["file", "handlers", "alerts", "problems"])}}, ["automations"]),
 "Alert": obj({"id": id_, "name": string, "device_id": id_, "device_name": string,
    "severity": {"type": "string", "enum": ["critical", "major", "minor", "warning"]},
    "state": {"type": "string", "enum": ["pending", "active", "cleared"]}, "since": time, "raised_at": time, "cleared_at": time,
    "message": string, "value": {"type": "string", "description": "The value that raised it (rules on a parameter)"},
    "source": {"type": "string", "description": "The automation file of the rule, or file#n of the handler that raised it"},
    "acknowledged_by": string, "acknowledged_at": time},
    ["id", "name", "device_id", "device_name", "severity", "state", "since", "message", "value", "source"]),
 "ReloadOutcome": obj({"accepted": {"type": "boolean"}, "changed": {"type": "array", "items": string, "description": "profiles/<file> and automations/<file> now running a new version"},
    "problems": {"type": "array", "items": string, "description": "warnings, and automation files whose new version was refused (their previous version keeps running)"}},
    ["accepted", "changed", "problems"]),
 "ScriptUpload": obj({"script": {"type": "string", "maxLength": 262144}}, ["script"]),
 "ScriptVersion": obj({"id": id_, "kind": {"type": "string", "enum": ["profile", "automation"]}, "name": string, "sha256": string,
    "bytes": integer, "removed": {"type": "boolean"}, "created_at": time, "created_by": string,
    "text": {"type": "string", "description": "GET /script-versions/{id} only"},
    "diff": {"type": "string", "description": "Unified diff against the file's previous version (GET /script-versions/{id} only)"}},
    ["id", "kind", "name", "sha256", "bytes", "removed", "created_by"]),
 "ScriptVersionPage": obj({"versions": {"type": "array", "items": ref("ScriptVersion")}, "next_cursor": string}, ["versions"]),
 "DiagnosticCreate": obj({"test": {"type": "string", "enum": ["download", "upload", "udpecho", "ping", "traceroute"]},
    "size": {"type": "integer", "minimum": 1, "maximum": 17179869184, "description": "download/upload bytes (default 10000000)"},
    "seconds": {"type": "integer", "minimum": 1, "maximum": 999, "description": "time-based test duration"},
    "connections": {"type": "integer", "minimum": 1, "maximum": 64},
    "host": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": "^[!-~]+$", "description": "udpecho/ping/traceroute target (a host name or address), or a full URL for download/upload"},
    "count": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "packets or tries"},
    "deadline": {"type": "integer", "minimum": 1, "maximum": 86400, "description": "seconds the device has to report completion"},
    "connection_request": {"type": "boolean"}, "timeout": {"type": "integer", "minimum": 1, "maximum": 120}}, ["test"]),
 "DiagnosticResult": obj({"id": id_, "device_id": id_, "task_id": {"type": ["integer", "null"]}, "test": string, "state": string, "ok": {"type": "boolean"},
    "at": time, "throughput_bps": {"type": ["number", "null"]}, "avg_rtt_us": {"type": ["integer", "null"]}, "jitter_us": {"type": ["number", "null"]},
    "loss": {"type": ["number", "null"]}, "summary": strs,
    "result": {"type": "object", "description": "The computed result: state, throughput_bps, full_loading_throughput_bps, tcp_rtt_us, ttfb_us, avg/min/max_rtt_us, jitter_us, loss, upstream_loss, downstream_loss, connections, intervals, packets, hops, server (the test server's view), raw (the CPE's values)"}},
    ["id", "device_id", "test", "state", "ok", "at", "summary"]),
 "SpeedtestSetting": obj({"speedtest_base_url": {"type": ["string", "null"], "maxLength": 512, "description": "http(s) URL; empty or null inherits"},
    "effective_base_url": {"type": ["string", "null"]}}),
 "DiagnosticPage": obj({"results": {"type": "array", "items": ref("DiagnosticResult")}, "next_cursor": string}, ["results"]),
 "DiagnosticSummary": obj({"by": string, "test": string, "groups": {"type": "array", "items": obj({"key": string, "results": integer, "devices": integer,
    "failed": integer, "avg_throughput_bps": {"type": ["number", "null"]}, "median_throughput_bps": {"type": ["number", "null"]},
    "min_throughput_bps": {"type": ["number", "null"]}, "avg_rtt_us": {"type": ["number", "null"]}, "avg_jitter_us": {"type": ["number", "null"]},
    "avg_loss": {"type": ["number", "null"]}}, ["key", "results", "devices", "failed"])}}, ["by", "groups"]),
 "AlertPage": obj({"alerts": {"type": "array", "items": ref("Alert")}, "next_cursor": string}, ["alerts"]),
 "EventList": obj({"events": {"type": "array", "items": obj({"id": id_, "kind": string, "at": time, "data": {"type": "string", "description": "JSON object text"},
    "handled": {"type": "boolean"}}, ["id", "kind", "at", "data", "handled"])}}, ["events"]),
 "TwoFactorStatus": obj({"enabled": {"type": "boolean"}, "pending": {"type": "boolean"}, "recovery_codes_left": {"type": "integer"},
    "required": {"type": "boolean"}}, ["enabled", "pending", "recovery_codes_left", "required"]),
 "TwoFactorEnrolment": obj({"secret": string, "otpauth_uri": string, "qr_svg": string,
    "recovery_codes": {"type": "array", "items": string}}, ["secret", "otpauth_uri", "qr_svg", "recovery_codes"]),
 "TwoFactorConfirm": obj({"code": {"type": "string", "maxLength": 16}}, ["code"]),
 "TwoFactorDisable": obj({"current_password": {"type": "string", "maxLength": 256}}, ["current_password"]),
 "TwoFactorRequirement": obj({"required_for_admins": {"type": "boolean"}}, ["required_for_admins"]),
 "Me": obj({"user": ref("User"), "organisation": ref("Organisation"), "role": ref("Role"), "token": ref("Token")}, ["user", "organisation", "role"]),
 "AuditEntry": obj({"id": id_, "at": time, "actor": string, "user_id": id_, "token_id": id_, "remote": string, "organisation_id": id_,
    "action": string, "object_type": string, "object_id": string, "before": string, "after": string, "status": integer},
    ["id", "actor", "action", "status"]),
 "AuditPage": obj({"entries": {"type": "array", "items": ref("AuditEntry")}, "next_cursor": string}, ["entries"]),
 "Preprovision": obj({"oui": string, "serial": string, "organisation_id": id_, "groups": strs, "tags": strs, "location": string,
    "description": string, "profile": string, "created_at": time}, ["serial", "organisation_id"]),
 "PreprovisionList": obj({"entries": {"type": "array", "items": ref("Preprovision")}}, ["entries"]),
 "ImportResult": obj({"pending": integer, "updated_devices": integer}, ["pending", "updated_devices"]),
 "Summon": obj({"sent": {"type": "boolean"}}, ["sent"]),
 "CampaignProgress": obj({k: integer for k in ["total", "pending", "running", "done", "failed", "skipped", "finished"]} |
    {"percent": {"type": "integer", "minimum": 0, "maximum": 100, "description": "finished (done + failed + skipped) / total"}},
    ["total", "pending", "running", "done", "failed", "skipped", "finished", "percent"]),
 "Campaign": obj({"id": id_, "name": string, "script_name": string,
    "state": {"type": "string", "enum": ["running", "paused", "stopped", "cancelled", "done"]},
    "stop_reason": string, "organisation_id": id_, "created_by": string, "created_at": time, "updated_at": time,
    "per_minute": integer, "concurrent": integer, "failure_rate": {"type": "number"}, "min_devices": integer,
    "connection_request": {"type": "boolean"}, "progress": ref("CampaignProgress"),
    "waves": {"type": "array", "description": "detail only", "items": obj({"wave": integer, "total": integer,
        "counts": {"type": "object", "additionalProperties": integer}})},
    "script": {"type": "string", "description": "detail only: the Lua text as started"}},
    ["id", "name", "script_name", "state", "stop_reason", "organisation_id", "progress"]),
 "CampaignList": obj({"campaigns": {"type": "array", "items": ref("Campaign")}}, ["campaigns"]),
 "CampaignDevice": obj({"device_id": id_, "name": string, "serial": string, "position": integer, "wave": integer,
    "state": {"type": "string", "enum": ["pending", "running", "done", "failed", "skipped"]},
    "error": {"type": "string", "description": "why it failed or was skipped (CPE fault code and message)"}, "updated_at": time,
    "tasks": {"type": "array", "items": obj({"id": id_, "action": string, "state": string, "fault": string}, ["id", "action", "state"])}},
    ["device_id", "state", "error", "tasks"]),
 "CampaignDevicePage": obj({"devices": {"type": "array", "items": ref("CampaignDevice")}, "next_cursor": string}, ["devices"]),
 "ScriptSource": obj({"name": {"type": "string", "maxLength": 100, "description": "file name for messages (ad-hoc scripts)"},
    "script": {"type": "string", "maxLength": 262144, "description": "Lua text"},
    "library": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "description": "a library script's name"}},
    description="either script or library"),
 "CampaignDryRun": obj({"campaign": obj({"name": string, "per_minute": integer, "concurrent": integer, "waves": {"type": "array", "items": integer},
        "failure_rate": {"type": "number"}, "min_devices": integer, "connection_request": {"type": "boolean"}, "device_timeout": integer}),
    "script_name": string, "count": {"type": "integer", "description": "target devices"},
    "preview": {"type": "array", "items": obj({"device_id": id_, "name": string, "serial": string, "actions": strs,
        "error": {"type": "string", "description": "apply(dev) failed on this device"}}, ["device_id", "actions"])},
    "preview_limit": integer, "truncated": {"type": "boolean"}}, ["campaign", "count", "preview", "truncated"]),
 "LibraryScript": obj({"name": string, "description": string, "source": string,
    "args": {"type": "array", "items": obj({"name": string, "default": string}, ["name"])}}, ["name", "description", "source", "args"]),
 "CampaignScriptList": obj({"scripts": {"type": "array", "items": ref("LibraryScript")}}, ["scripts"]),
 "ReportList": obj({"reports": {"type": "array", "items": ref("LibraryScript")}}, ["reports"]),
 "ReportRun": obj({"library": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
    "script": {"type": "string", "maxLength": 262144, "description": "ad-hoc Lua report (admin)"},
    "name": {"type": "string", "maxLength": 100},
    "args": {"type": "object", "maxProperties": 50, "additionalProperties": {"type": ["string", "number", "boolean"]}},
    "format": {"type": "string", "enum": ["json", "csv"]}}, description="either library or script"),
 "ReportResult": obj({"columns": strs, "rows": {"type": "array", "items": {"type": "array"}},
    "truncated": {"type": "boolean", "description": "more than 10,000 rows: the first 10,000 are here"},
    "row_count": {"type": "integer", "description": "rows the report produced"}}, ["columns", "rows", "truncated", "row_count"]),
}

def resp(desc, schema=None, ctype="application/json"):
    r = {"description": desc}
    if schema: r["content"] = {ctype: {"schema": ref(schema) if isinstance(schema, str) else schema}}
    return r
problem = lambda d: {"description": d, "content": {"application/problem+json": {"schema": ref("Problem")}}}
P_ID = {"name": "id", "in": "path", "required": True, "schema": id_}
def q(name, schema=string, desc=None):
    p = {"name": name, "in": "query", "required": False, "schema": schema}
    if desc: p["description"] = desc
    return p
def body(schema, ctype="application/json", required=True):
    return {"required": required, "content": {ctype: {"schema": ref(schema) if isinstance(schema, str) else schema}}}

device_filters = [q("status", {"type": "string", "enum": ["online", "offline", "never"]}), q("profile"), q("manufacturer"), q("model"),
    q("software_version"), q("group"), q("tag"), q("location"), q("organisation_id", id_, "devices in this organisation subtree"),
    q("q", string, "text in name, serial or description"),
    {"name": "param", "in": "query", "required": False, "schema": {"type": "array", "items": string, "maxItems": 10}, "style": "form", "explode": True,
     "description": "parameter condition <path><op><value>, op one of = != < <= > >= ~ (contains); the path may be a profile alias (lte.rssi<-100); repeatable"},
    q("sort", {"type": "string", "enum": ["id", "name", "serial", "last_inform", "software_version", "model_name", "profile", "created_at"]}),
    q("order", {"type": "string", "enum": ["asc", "desc"]})]
limit = lambda mx, d=100: q("limit", {"type": "integer", "minimum": 1, "maximum": mx, "default": d})
cursor = q("cursor", string, "next_cursor of the previous page")

ops = []  # (method, path, permission, summary, extra)
def op(method, path, perm, summary, ok, params=(), req=None, errors=(400, 401, 403, 404, 409, 413, 415, 422, 429, 503), status="200"):
    ops.append((method, path, perm, summary, ok, list(params), req, errors, status))

op("GET", "/openapi.json", "anyone", "This document", resp("OpenAPI 3.1 document", {"type": "object"}), errors=())
op("POST", "/auth/login", "anyone", "Log in: sets an HttpOnly SameSite=Strict session cookie; returns the CSRF token for X-CSRF-Token",
   resp("Logged in", "LoginAnswer"), req=body("Login"))
op("POST", "/auth/logout", "signed-in", "Log out", resp("Logged out"), status="204")
op("GET", "/me", "signed-in", "The caller: user, organisation, effective role, token", resp("The caller", "Me"))
op("POST", "/me/password", "signed-in", "Change the caller's own password (sessions only)", resp("Changed"), req=body("PasswordChange"), status="204")
op("GET", "/automations", "viewer", "The automation files serve runs (scripts/automations): their handlers and what is off", resp("Automations", "AutomationList"))
op("GET", "/devices/{id}/events", "viewer", "A device's events (newest first), as automations see them", resp("Events", "EventList"), [P_ID, limit(1000)])
alert_state = q("state", {"type": "string", "enum": ["active", "pending", "cleared", "open", "all"], "default": "active"})
alert_severity = q("severity", {"type": "string", "enum": ["critical", "major", "minor", "warning"]})
alert_name = q("name", {"type": "string", "maxLength": 64})
op("GET", "/devices/{id}/alerts", "viewer", "A device's alerts, newest first", resp("A page", "AlertPage"),
   [P_ID, alert_state, alert_severity, alert_name, limit(1000), cursor])
op("GET", "/alerts", "viewer", "Alerts of the caller's subtree, newest first (default: active ones)", resp("A page", "AlertPage"),
   [q("device_id", id_), alert_state, alert_severity, alert_name, limit(1000), cursor])
op("GET", "/alerts/{id}", "viewer", "One alert", resp("The alert", "Alert"), [P_ID])
diag_test = q("test", {"type": "string", "enum": ["download", "upload", "udpecho", "ping", "traceroute"]})
diag_since = q("since", {"type": "string", "maxLength": 40}, "Unix seconds or an ISO 8601 time")
diag_full = q("full", {"type": "string", "enum": ["true", "false"]}, "include the whole computed result")
op("POST", "/devices/{id}/diagnostics", "operator", "Run a TR-143 test (paths for the device's data model, Corral's own test servers); connection_request wakes the device",
   resp("Queued or accepted", "Task"), [P_ID], body("DiagnosticCreate"), status="201")
op("GET", "/devices/{id}/diagnostics", "viewer", "A device's TR-143 results, newest first", resp("A page", "DiagnosticPage"),
   [P_ID, diag_test, diag_since, diag_full, limit(1000), cursor])
op("GET", "/diagnostics", "viewer", "TR-143 results of the caller's subtree, newest first (task_id: the result of one task)", resp("A page", "DiagnosticPage"),
   [q("device_id", id_), q("task_id", id_), diag_test, diag_since, diag_full, limit(1000), cursor])
op("GET", "/diagnostics/summary", "viewer", "The fleet's TR-143 results grouped by a device field (default: the last 24 h by model)",
   resp("Groups", "DiagnosticSummary"), [q("by", {"type": "string", "enum": ["model", "software_version", "organisation", "location", "profile"]}), diag_test, diag_since, limit(1000)])
op("GET", "/diagnostics/{id}", "viewer", "One TR-143 result with everything computed and the CPE's raw values", resp("The result", "DiagnosticResult"), [P_ID])
P_FILE = {"name": "file", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,60}\\.lua$"}}
op("POST", "/scripts/reload", "superadmin", "Reload the profiles and automation files from their directories (as SIGHUP does); nothing is installed unless it validates",
   resp("Reloaded", "ReloadOutcome"))
op("PUT", "/scripts/profiles/{file}", "superadmin", "Save a profile file (validated with the other profiles first, then written and loaded)",
   resp("Saved and loaded", "ReloadOutcome"), [P_FILE], req=body("ScriptUpload"))
op("PUT", "/scripts/automations/{file}", "superadmin", "Save an automation file (loaded against the current profiles first, then written and loaded)",
   resp("Saved and loaded", "ReloadOutcome"), [P_FILE], req=body("ScriptUpload"))
op("GET", "/script-versions", "superadmin", "Every accepted version of the profile and automation files, newest first",
   resp("A page", "ScriptVersionPage"), [q("kind", {"type": "string", "enum": ["profile", "automation"]}), q("name", {"type": "string", "maxLength": 64}), limit(1000), cursor])
op("GET", "/script-versions/{id}", "superadmin", "One version with its text and the diff to the previous one", resp("The version", "ScriptVersion"), [P_ID])
op("POST", "/alerts/{id}/acknowledge", "operator", "Acknowledge an open alert (it stays open until its condition clears)",
   resp("The alert", "Alert"), [P_ID])
op("GET", "/me/2fa", "signed-in", "The caller's two-factor state", resp("State", "TwoFactorStatus"))
op("POST", "/me/2fa/enrol", "signed-in", "Start two-factor enrolment (sessions only): secret, otpauth URI, QR code as SVG, recovery codes",
   resp("Pending until confirmed", "TwoFactorEnrolment"), status="201")
op("POST", "/me/2fa/confirm", "signed-in", "Turn two-factor on with a first code from the app", resp("On", "TwoFactorStatus"), req=body("TwoFactorConfirm"))
op("POST", "/me/2fa/disable", "signed-in", "Turn two-factor off (current password)", resp("Off"), req=body("TwoFactorDisable"), status="204")
op("GET", "/devices", "viewer", "List devices (filters, sort, cursor pagination)", resp("A page", "DevicePage"), device_filters + [limit(1000), cursor])
op("GET", "/devices/export", "viewer", "All matching devices as CSV", resp("CSV", {"type": "string"}, "text/csv"), device_filters)
op("GET", "/devices/{id}", "viewer", "Device detail", resp("The device", "DeviceDetail"), [P_ID])
op("PATCH", "/devices/{id}", "operator", "Update groups, tags, location, description", resp("Updated", "Device"), [P_ID], body("DevicePatch"))
op("PUT", "/devices/{id}/organisation", "admin", "Move a device to another organisation", resp("Moved", "Device"), [P_ID], body("DeviceMove"))
op("GET", "/devices/{id}/parameters", "viewer", "Stored parameter values (a subtree with prefix); secrets are blank",
   resp("Parameters", obj({"parameters": {"type": "array", "items": ref("Parameter")}}, ["parameters"])),
   [P_ID, q("prefix", string, "path prefix, e.g. Device.WiFi."), limit(50000, 5000)])
op("GET", "/devices/{id}/tasks", "viewer", "Tasks of a device, newest first", resp("Tasks", "TaskList"),
   [P_ID, q("state", {"type": "string", "enum": ["pending", "sent", "waiting", "done", "fault", "cancelled"]}), limit(1000)])
op("POST", "/devices/{id}/tasks", "operator", "Queue get/set/refresh/add_object/delete_object/reboot; connection_request runs it now",
   {"description": "201 queued; 200 finished (state done, fault or waiting); 202 not finished before the timeout",
    "content": {"application/json": {"schema": ref("Task")}}}, [P_ID], body("TaskCreate"), status="201")
op("POST", "/devices/{id}/factory-reset", "admin", "Queue a factory reset", resp("Queued or finished", "Task"), [P_ID], body("RunOptions", required=False), status="201")
op("POST", "/devices/{id}/download", "admin", "Queue a Download (an uploaded file_id, or a url)", resp("Queued or finished", "Task"), [P_ID], body("DownloadCreate"), status="201")
op("POST", "/devices/{id}/resolve-conflict", "admin", "Resolve a credential conflict: forget the pre-re-bootstrap credentials, deliver secrets again", resp("The device", "Device"), [P_ID])
op("POST", "/devices/{id}/approve-rebootstrap", "admin", "Let a quarantined re-bootstrap through once", resp("The device", "Device"), [P_ID])
op("POST", "/devices/{id}/summon", "operator", "Send an HTTP connection request now", resp("Sent", "Summon"), [P_ID])
op("POST", "/devices/{id}/validate", "operator", "Run the launch checklist against the live device (onboarded, inventory, reachable by each "
   "connection-request method, reads, a configuration change read back and restored, reboot, optionally factory reset) and save the report; "
   "every wait is bounded, an unreachable device fails at once", resp("The saved report (passed: every check passed)", "Validation"),
   [P_ID], body("ValidationRun", required=False), status="201")
op("GET", "/devices/{id}/validations", "viewer", "A device's saved launch checklist reports, newest first", resp("Reports", "ValidationList"),
   [P_ID, q("limit", {"type": "integer", "minimum": 1, "maximum": 200})])
op("GET", "/validations/{id}", "viewer", "One saved launch checklist report", resp("The report", "Validation"), [P_ID])
op("GET", "/tasks/{id}", "viewer", "Task status and result", resp("The task", "Task"), [P_ID])
op("DELETE", "/tasks/{id}", "operator", "Cancel a pending task", resp("Cancelled", "Task"), [P_ID])
op("GET", "/faults", "viewer", "CPE faults, newest first", resp("A page", "FaultPage"), [q("device_id", id_), q("code", integer), limit(1000), cursor])
op("POST", "/faults/{id}/retry", "operator", "Queue the faulted task again and clear the fault", resp("The new task", "Task"), [P_ID], status="201")
op("DELETE", "/faults/{id}", "operator", "Delete a fault", resp("Deleted"), [P_ID], status="204")
op("GET", "/profiles", "viewer", "Device profiles", resp("Profiles", "ProfileList"))
op("GET", "/profiles/{name}", "viewer", "One profile (with its Lua source for admins)", resp("The profile", "Profile"), [{"name": "name", "in": "path", "required": True, "schema": string}])
op("POST", "/profiles/validate", "admin", "Check a profile file in the sandbox next to the loaded ones; nothing is installed",
   resp("The verdict (valid or not) with the problems", "ProfileValidation"), req=body("ProfileValidate"))
op("GET", "/analytics/devices", "viewer", "Device counts by status, manufacturer, model, software version, profile, organisation", resp("Counts", "Analytics"))
op("GET", "/files", "viewer", "Uploaded files", resp("Files", "FileList"))
op("POST", "/files", "admin", "Upload a file (raw body); X-Checksum-SHA256 or sha256 is verified if given", resp("Stored", "File"),
   [q("name", {"type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$"}), q("file_type"), q("organisation_id", id_), q("sha256"),
    {"name": "X-Checksum-SHA256", "in": "header", "required": False, "schema": string}],
   body({"type": "string", "format": "binary"}, "application/octet-stream"), status="201")
op("GET", "/files/{id}", "viewer", "File metadata and download URL", resp("The file", "File"), [P_ID])
op("GET", "/firmware", "viewer", "Firmware images, newest first", resp("Images", "FirmwareList"))
op("POST", "/firmware", "admin", "Register a firmware image (raw body, streamed to disk and hashed; the same bytes are one file: 200 with the existing image)",
   resp("Stored", "File"),
   [q("name", {"type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$"}), q("version", {"type": "string", "minLength": 1, "maxLength": 64}),
    q("profile"), q("model"), q("notes"), q("organisation_id", id_), q("sha256"),
    {"name": "X-Checksum-SHA256", "in": "header", "required": False, "schema": string}],
   body({"type": "string", "format": "binary"}, "application/octet-stream"), status="201")
op("DELETE", "/files/{id}", "admin", "Delete a file", resp("Deleted"), [P_ID], status="204")
op("GET", "/events", "viewer", "Live events of the caller's organisation subtree as Server-Sent Events (id, event, data = the webhook body); Last-Event-ID or since resumes",
   resp("The stream", {"type": "string"}, ctype="text/event-stream"),
   [q("types", {"type": "string", "maxLength": 2000}, "event kinds or patterns separated by commas (default *)"), q("since", {"type": "integer", "minimum": 0}),
    q("timeout", {"type": "integer", "minimum": 0, "maximum": 86400}, "end the stream after this many seconds (0: never)"),
    {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "integer", "minimum": 0}}], errors=(400, 401, 403, 429))
op("GET", "/webhooks", "admin", "Webhooks of the caller's organisation subtree, with delivery counts", resp("Webhooks", "WebhookList"))
op("POST", "/webhooks", "admin", "Register a URL that receives events as signed JSON (X-Corral-Signature: sha256=HMAC-SHA256(secret, body))",
   resp("Registered", "Webhook"), req=body("WebhookCreate"), status="201")
op("GET", "/webhooks/{id}", "admin", "A webhook and its delivery counts", resp("The webhook", "Webhook"), [P_ID])
op("PATCH", "/webhooks/{id}", "admin", "Change URL, events, secret, description or enabled", resp("Updated", "Webhook"), [P_ID], body("WebhookPatch"))
op("DELETE", "/webhooks/{id}", "admin", "Remove a webhook and its delivery log", resp("Deleted"), [P_ID], status="204")
op("GET", "/webhooks/{id}/deliveries", "admin", "The newest deliveries: event, state, attempts, last HTTP status or error, body",
   resp("Deliveries", "WebhookDeliveryList"), [P_ID, q("limit", {"type": "integer", "minimum": 1, "maximum": 500})])
op("POST", "/webhooks/{id}/test", "admin", "Send a webhook.test event to this webhook (its outcome shows in the delivery log)", resp("Queued", "Queued"),
   [P_ID], status="202")
op("DELETE", "/devices/{id}", "admin", "Remove a device and everything stored about it (it onboards as a new device if it informs again)", resp("Deleted"), [P_ID], status="204")
op("POST", "/devices/{id}/reset-credentials", "admin", "Credential recovery: let the device onboard once more with its profile's onboarding credentials, without BOOTSTRAP",
   resp("The device", "Device"), [P_ID])
op("GET", "/onboarding-attempts", "viewer", "Refused first contacts (unknown username, wrong password, another device's credentials...), newest first, with hints",
   resp("Attempts", "OnboardingAttemptList"), [q("device_id", id_), q("search", {"type": "string", "maxLength": 100}),
                                                 q("limit", {"type": "integer", "minimum": 1, "maximum": 1000})])
op("GET", "/rollouts", "viewer", "Firmware rollouts, newest first, with progress", resp("Rollouts", "RolloutList"))
op("POST", "/rollouts", "admin", "Start a firmware rollout of a stored image version to the devices of a target, in waves", resp("Started", "Rollout"),
   req=body("RolloutCreate"), status="201")
op("GET", "/rollouts/{id}", "viewer", "A rollout's progress by wave and its failures", resp("The rollout", "Rollout"), [P_ID])
for action, what in [("pause", "Pause (downloads under way finish)"), ("resume", "Resume a paused or stopped rollout"),
                     ("cancel", "Cancel (downloads not yet fetched are withdrawn)")]:
    op("POST", "/rollouts/{id}/" + action, "admin", what, resp("The rollout", "Rollout"), [P_ID])
op("POST", "/rollouts/{id}/rollback", "admin", "Roll the upgraded devices back to their previous version (a new rollout)", resp("The rollback", "Rollout"),
   [P_ID], status="201")
op("POST", "/devices/{id}/backup", "operator", "Have the CPE upload its configuration (or log) to Corral (an Upload task)", resp("Queued", "Task"),
   [P_ID], body("BackupCreate"), status="201")
op("GET", "/devices/{id}/backups", "viewer", "A device's backups, newest first (the newest 50 are kept)", resp("Backups", "BackupList"), [P_ID])
op("GET", "/backups/{id}", "viewer", "One backup", resp("The backup", "Backup"), [P_ID])
op("GET", "/backups/{id}/content", "operator", "A backup's bytes (text/plain when it is text)", {"description": "The file",
   "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}, "text/plain": {"schema": string}}}, [P_ID])
op("GET", "/backups/{id}/diff", "operator", "What changed from another backup (default: the device's previous one of its kind)", resp("The diff", "BackupDiff"),
   [P_ID, q("to", id_)])
op("POST", "/backups/{id}/restore", "admin", "Restore a configuration: a Download of 3 Vendor Configuration File to its device", resp("Queued", "Task"),
   [P_ID], body("RunOptions"), status="201")
op("GET", "/organisations", "viewer", "The caller's organisation subtree", resp("Organisations", "OrganisationList"))
op("POST", "/organisations", "admin", "Create an organisation (default parent: the caller's)", resp("Created", "Organisation"), req=body("OrganisationCreate"), status="201")
op("GET", "/organisations/{id}", "viewer", "One organisation", resp("The organisation", "Organisation"), [P_ID])
op("PATCH", "/organisations/{id}", "admin", "Rename an organisation", resp("Renamed", "Organisation"), [P_ID], body("OrganisationRename"))
op("POST", "/organisations/{id}/move", "admin", "Move an organisation (and its subtree) under another parent", resp("Moved", "Organisation"), [P_ID], body("OrganisationMove"))
op("DELETE", "/organisations/{id}", "admin", "Delete an empty organisation", resp("Deleted"), [P_ID], status="204")
op("GET", "/organisations/{id}/speedtest", "viewer", "The organisation's TR-143 test server setting and what its devices use",
   resp("Setting", "SpeedtestSetting"), [P_ID])
op("PUT", "/organisations/{id}/speedtest", "admin", "Set the test server this organisation's devices use (empty: inherit)", resp("Setting", "SpeedtestSetting"),
   [P_ID], body("SpeedtestSetting"))
op("GET", "/organisations/{id}/two-factor", "viewer", "Whether the organisation requires two-factor of its admins", resp("Requirement", "TwoFactorRequirement"), [P_ID])
op("PUT", "/organisations/{id}/two-factor", "admin", "Require two-factor of the admins of this organisation and below", resp("Requirement", "TwoFactorRequirement"), [P_ID], body("TwoFactorRequirement"))
op("GET", "/users", "admin", "Users in the subtree", resp("Users", "UserList"))
op("POST", "/users", "admin", "Create a user (role at most the caller's)", resp("Created", "User"), req=body("UserCreate"), status="201")
op("GET", "/users/{id}", "admin", "One user", resp("The user", "User"), [P_ID])
op("PATCH", "/users/{id}", "admin", "Change role, organisation, password, disabled", resp("Updated", "User"), [P_ID], body("UserPatch"))
op("DELETE", "/users/{id}", "admin", "Delete a user (and its tokens)", resp("Deleted"), [P_ID], status="204")
op("POST", "/users/{id}/reset-2fa", "admin", "Turn off a user's two-factor (lost phone) and sign it out everywhere", resp("Reset"), [P_ID], status="204")
op("GET", "/tokens", "admin", "API tokens in the subtree (never the secrets)", resp("Tokens", "TokenList"))
op("POST", "/tokens", "admin", "Create a token; the secret is in this answer only", resp("Created", "Token"), req=body("TokenCreate"), status="201")
op("DELETE", "/tokens/{id}", "admin", "Revoke a token", resp("Revoked"), [P_ID], status="204")
audit_filters = [q("actor"), q("action"), q("object_type"), q("object_id"), q("since", string, "RFC 3339 or Unix seconds"), q("until", string, "RFC 3339 or Unix seconds")]
op("GET", "/audit", "admin", "Audit log, newest first", resp("A page", "AuditPage"), audit_filters + [limit(1000), cursor])
op("GET", "/audit/export", "admin", "Audit log as CSV", resp("CSV", {"type": "string"}, "text/csv"), audit_filters)
camp_state = q("state", {"type": "string", "enum": ["running", "paused", "stopped", "cancelled", "done"]}, "only campaigns in this state")
op("GET", "/campaigns", "viewer", "Campaigns of the caller's subtree, newest first, with progress", resp("Campaigns", "CampaignList"), [camp_state, limit(1000)])
op("POST", "/campaigns", "admin", "Start a campaign (Lua script or library name): its target is chosen inside the caller's organisation subtree "
   "and snapshotted; the server runs it", resp("Started", "Campaign"), req=body("ScriptSource"), status="201")
op("POST", "/campaigns/dry-run", "admin", "Target count and, for the first 200 devices, what apply(dev) would do; writes nothing",
   resp("Preview", "CampaignDryRun"), req=body("ScriptSource"))
op("GET", "/campaigns/{id}", "viewer", "A campaign with progress per wave and its script", resp("The campaign", "Campaign"), [P_ID])
op("GET", "/campaigns/{id}/devices", "viewer", "A campaign's devices in target order, with their tasks and errors", resp("A page", "CampaignDevicePage"),
   [P_ID, q("state", {"type": "string", "enum": ["pending", "running", "done", "failed", "skipped"]}), limit(1000), cursor])
for verb, allowed in (("pause", "running"), ("resume", "paused"), ("cancel", "running or paused")):
    op("POST", f"/campaigns/{{id}}/{verb}", "admin", f"{verb.capitalize()} a campaign ({allowed}; otherwise 409)", resp("The campaign", "Campaign"), [P_ID])
op("GET", "/campaign-scripts", "viewer", "The library's campaign scripts (scripts_dir/campaigns)", resp("Scripts", "CampaignScriptList"))
op("GET", "/reports", "viewer", "The library's reports (scripts_dir/reports) with the args they read", resp("Reports", "ReportList"))
op("POST", "/reports/run", "viewer", "Run a library report (viewer) or an ad-hoc script (admin) over the caller's subtree. JSON: at most 10,000 rows "
   "(truncated says so); CSV: at most 100,000 rows (X-Report-Truncated). A script error is a 400 with Lua's message",
   {"description": "The rows (X-Report-Rows: rows produced)", "content": {"application/json": {"schema": ref("ReportResult")},
                                                                           "text/csv": {"schema": {"type": "string"}}}},
   req=body("ReportRun"))
op("GET", "/preprovisioning", "viewer", "Pre-provisioned serials waiting for their first Inform", resp("Entries", "PreprovisionList"))
op("POST", "/preprovisioning/import", "admin", "Import a CSV (serial,oui,organisation,groups,tags,location,description,profile); all or nothing",
   resp("Imported", "ImportResult"), req=body({"type": "string"}, "text/csv"))
op("GET", "/preprovisioning/export", "admin", "Pending entries and existing devices as importable CSV", resp("CSV", {"type": "string"}, "text/csv"))
op("DELETE", "/preprovisioning/{serial}", "admin", "Delete a pending entry", resp("Deleted"),
   [{"name": "serial", "in": "path", "required": True, "schema": string}, q("oui")], status="204")

paths = {}
for method, path, perm, summary, ok, params, req, errors, status in ops:
    o = {"summary": summary, "operationId": (method.lower() + path.replace("/", "_").replace("{", "").replace("}", "").replace(".", "_").replace("-", "_")),
         "x-permission": perm, "responses": {status: ok}}
    if perm == "anyone": o["security"] = []
    if params: o["parameters"] = params
    if req: o["requestBody"] = req
    for e in errors:
        # Public routes need no credentials; login still answers 401 to a wrong password and 403 to another site's Origin.
        if perm == "anyone" and path != "/auth/login" and e in (401, 403): continue
        o["responses"][str(e)] = problem({400: "Bad request", 401: "No or bad credentials", 403: "Role too low, or CSRF token missing",
            404: "Not found (or outside the caller's organisation subtree)", 409: "Conflict", 413: "Too large", 415: "Wrong content type",
            422: "Invalid input", 429: "Throttled", 503: "Busy, or a query ran past the time limit"}[e])
    if method == "POST" and path == "/devices/{id}/tasks":
        o["responses"]["200"] = resp("Finished", "Task"); o["responses"]["202"] = resp("Not finished before the timeout", "Task")
    if path in ("/devices/{id}/factory-reset", "/devices/{id}/download", "/devices/{id}/backup", "/backups/{id}/restore") or (method == "POST" and path == "/devices/{id}/diagnostics"):
        o["responses"]["200"] = resp("Finished", "Task"); o["responses"]["202"] = resp("Not finished before the timeout", "Task")
    if method == "POST" and path in ("/files", "/firmware"):
        o["responses"]["200"] = resp("These bytes were stored already: the existing file", "File")
        o["responses"]["507"] = problem("The file store is out of space; nothing was stored")
    paths.setdefault(path, {})[method.lower()] = o

doc = {"openapi": "3.1.0",
  "info": {"title": "Corral REST API", "version": "1.0.0",
           "description": "TR-069 ACS management API. Authenticate with `Authorization: Bearer <token>` (tokens: POST /tokens or `corral user token`), "
           "or a session cookie from POST /auth/login plus the X-CSRF-Token header on state-changing requests. Roles (viewer < operator < admin < superadmin) "
           "apply to an organisation subtree; objects outside it answer 404. Errors are application/problem+json. Campaigns and reports run Lua confined to the caller's organisation subtree."},
  "servers": [{"url": "/api/v1"}],
  "security": [{"bearer": []}, {"session": []}],
  "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                     "session": {"type": "apiKey", "in": "cookie", "name": "corral_api_session"}},
                 "schemas": schemas},
  "paths": paths}
import os
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "API", "openapi.json")
json.dump(doc, open(out, "w"), indent=1)
open(out, "a").write("\n")
print(len(ops), "operations")
