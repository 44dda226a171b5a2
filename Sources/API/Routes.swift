import ACSCore

/// The route table: every route below /api/v1 with the permission it needs. The boundary (`APIHandler`) enforces
/// the permission; the OpenAPI document (openapi.json) must list exactly these routes (a test checks both ways).
enum Routes {
    static let all: [Route] = [
        Route(method: "GET", pattern: "/openapi.json", permission: .anyone, action: "openapi.read", handler: FleetHandlers.openAPI),
        Route(method: "POST", pattern: "/auth/login", permission: .anyone, action: "auth.login", handler: AccountHandlers.login),
        Route(method: "POST", pattern: "/auth/logout", permission: .signedIn, action: "auth.logout", handler: AccountHandlers.logout),
        Route(method: "GET", pattern: "/me", permission: .signedIn, action: "me.read", handler: AccountHandlers.me),
        Route(method: "POST", pattern: "/me/password", permission: .signedIn, action: "me.password", handler: AccountHandlers.changeOwnPassword),
        Route(method: "GET", pattern: "/automations", permission: .role(.viewer), action: "automation.list", handler: AutomationHandlers.list),
        Route(method: "GET", pattern: "/devices/{id}/events", permission: .role(.viewer), action: "device.events", handler: AutomationHandlers.deviceEvents),
        Route(method: "GET", pattern: "/devices/{id}/alerts", permission: .role(.viewer), action: "device.alerts", handler: AlertHandlers.forDevice),
        Route(method: "GET", pattern: "/alerts", permission: .role(.viewer), action: "alert.list", handler: AlertHandlers.list),
        Route(method: "POST", pattern: "/scripts/reload", permission: .role(.superadmin), action: "script.reload", handler: ScriptHandlers.reload),
        Route(method: "PUT", pattern: "/scripts/profiles/{file}", permission: .role(.superadmin), action: "script.profile_put", handler: ScriptHandlers.putProfile),
        Route(method: "PUT", pattern: "/scripts/automations/{file}", permission: .role(.superadmin), action: "script.automation_put", handler: ScriptHandlers.putAutomation),
        Route(method: "GET", pattern: "/script-versions", permission: .role(.superadmin), action: "script.versions", handler: ScriptHandlers.versions),
        Route(method: "GET", pattern: "/script-versions/{id}", permission: .role(.superadmin), action: "script.version", handler: ScriptHandlers.version),
        Route(method: "GET", pattern: "/alerts/{id}", permission: .role(.viewer), action: "alert.read", handler: AlertHandlers.show),
        Route(method: "POST", pattern: "/alerts/{id}/acknowledge", permission: .role(.operator), action: "alert.acknowledge", handler: AlertHandlers.acknowledge),
        Route(method: "GET", pattern: "/me/2fa", permission: .signedIn, action: "me.two_factor", handler: TwoFactorHandlers.show),
        Route(method: "POST", pattern: "/me/2fa/enrol", permission: .signedIn, action: "me.two_factor_enrol", handler: TwoFactorHandlers.enrol),
        Route(method: "POST", pattern: "/me/2fa/confirm", permission: .signedIn, action: "me.two_factor_confirm", handler: TwoFactorHandlers.confirm),
        Route(method: "POST", pattern: "/me/2fa/disable", permission: .signedIn, action: "me.two_factor_disable", handler: TwoFactorHandlers.disable),

        Route(method: "GET", pattern: "/devices", permission: .role(.viewer), action: "device.list", handler: DeviceHandlers.list),
        Route(method: "GET", pattern: "/devices/export", permission: .role(.viewer), action: "device.export", handler: DeviceHandlers.export),
        Route(method: "GET", pattern: "/devices/{id}", permission: .role(.viewer), action: "device.read", handler: DeviceHandlers.show),
        Route(method: "PATCH", pattern: "/devices/{id}", permission: .role(.operator), action: "device.update", handler: DeviceHandlers.update),
        Route(method: "PUT", pattern: "/devices/{id}/organisation", permission: .role(.admin), action: "device.move", handler: DeviceHandlers.move),
        Route(method: "GET", pattern: "/devices/{id}/parameters", permission: .role(.viewer), action: "device.parameters", handler: DeviceHandlers.parameters),
        Route(method: "GET", pattern: "/devices/{id}/tasks", permission: .role(.viewer), action: "task.list", handler: TaskHandlers.listForDevice),
        Route(method: "POST", pattern: "/devices/{id}/tasks", permission: .role(.operator), action: "task.create", handler: TaskHandlers.create),
        Route(method: "POST", pattern: "/devices/{id}/factory-reset", permission: .role(.admin), action: "task.factory_reset", handler: TaskHandlers.factoryReset),
        Route(method: "POST", pattern: "/devices/{id}/download", permission: .role(.admin), action: "task.download", handler: TaskHandlers.download),
        Route(method: "POST", pattern: "/devices/{id}/resolve-conflict", permission: .role(.admin), action: "device.resolve_conflict", handler: DeviceHandlers.resolveConflict),
        Route(method: "POST", pattern: "/devices/{id}/approve-rebootstrap", permission: .role(.admin), action: "device.approve_rebootstrap", handler: DeviceHandlers.approveRebootstrap),
        Route(method: "POST", pattern: "/devices/{id}/summon", permission: .role(.operator), action: "device.summon", handler: TaskHandlers.summon),

        Route(method: "GET", pattern: "/tasks/{id}", permission: .role(.viewer), action: "task.read", handler: TaskHandlers.show),
        Route(method: "DELETE", pattern: "/tasks/{id}", permission: .role(.operator), action: "task.cancel", handler: TaskHandlers.cancel),

        Route(method: "GET", pattern: "/faults", permission: .role(.viewer), action: "fault.list", handler: FaultHandlers.list),
        Route(method: "POST", pattern: "/faults/{id}/retry", permission: .role(.operator), action: "fault.retry", handler: FaultHandlers.retry),
        Route(method: "DELETE", pattern: "/faults/{id}", permission: .role(.operator), action: "fault.delete", handler: FaultHandlers.delete),

        Route(method: "GET", pattern: "/profiles", permission: .role(.viewer), action: "profile.list", handler: ProfileHandlers.list),
        Route(method: "GET", pattern: "/profiles/{name}", permission: .role(.viewer), action: "profile.read", handler: ProfileHandlers.show),
        Route(method: "POST", pattern: "/profiles/validate", permission: .role(.admin), action: "profile.validate", handler: ProfileHandlers.validate),
        Route(method: "GET", pattern: "/analytics/devices", permission: .role(.viewer), action: "analytics.devices", handler: FleetHandlers.analytics),

        Route(method: "GET", pattern: "/files", permission: .role(.viewer), action: "file.list", handler: FileHandlers.list),
        Route(method: "POST", pattern: "/files", permission: .role(.admin), action: "file.upload", handler: FileHandlers.upload),
        Route(method: "GET", pattern: "/files/{id}", permission: .role(.viewer), action: "file.read", handler: FileHandlers.show),
        Route(method: "DELETE", pattern: "/files/{id}", permission: .role(.admin), action: "file.delete", handler: FileHandlers.delete),

        Route(method: "GET", pattern: "/organisations", permission: .role(.viewer), action: "organisation.list", handler: OrganisationHandlers.list),
        Route(method: "POST", pattern: "/organisations", permission: .role(.admin), action: "organisation.create", handler: OrganisationHandlers.create),
        Route(method: "GET", pattern: "/organisations/{id}", permission: .role(.viewer), action: "organisation.read", handler: OrganisationHandlers.show),
        Route(method: "PATCH", pattern: "/organisations/{id}", permission: .role(.admin), action: "organisation.update", handler: OrganisationHandlers.rename),
        Route(method: "POST", pattern: "/organisations/{id}/move", permission: .role(.admin), action: "organisation.move", handler: OrganisationHandlers.move),
        Route(method: "DELETE", pattern: "/organisations/{id}", permission: .role(.admin), action: "organisation.delete", handler: OrganisationHandlers.delete),
        Route(method: "GET", pattern: "/organisations/{id}/two-factor", permission: .role(.viewer), action: "organisation.two_factor_read", handler: TwoFactorHandlers.requirement),
        Route(method: "PUT", pattern: "/organisations/{id}/two-factor", permission: .role(.admin), action: "organisation.two_factor", handler: TwoFactorHandlers.setRequirement),

        Route(method: "GET", pattern: "/users", permission: .role(.admin), action: "user.list", handler: AccountHandlers.listUsers),
        Route(method: "POST", pattern: "/users", permission: .role(.admin), action: "user.create", handler: AccountHandlers.createUser),
        Route(method: "GET", pattern: "/users/{id}", permission: .role(.admin), action: "user.read", handler: AccountHandlers.showUser),
        Route(method: "PATCH", pattern: "/users/{id}", permission: .role(.admin), action: "user.update", handler: AccountHandlers.updateUser),
        Route(method: "DELETE", pattern: "/users/{id}", permission: .role(.admin), action: "user.delete", handler: AccountHandlers.deleteUser),
        Route(method: "POST", pattern: "/users/{id}/reset-2fa", permission: .role(.admin), action: "user.reset_2fa", handler: TwoFactorHandlers.reset),

        Route(method: "GET", pattern: "/tokens", permission: .role(.admin), action: "token.list", handler: AccountHandlers.listTokens),
        Route(method: "POST", pattern: "/tokens", permission: .role(.admin), action: "token.create", handler: AccountHandlers.createToken),
        Route(method: "DELETE", pattern: "/tokens/{id}", permission: .role(.admin), action: "token.revoke", handler: AccountHandlers.revokeToken),

        Route(method: "GET", pattern: "/audit", permission: .role(.admin), action: "audit.list", handler: AuditHandlers.list),
        Route(method: "GET", pattern: "/audit/export", permission: .role(.admin), action: "audit.export", handler: AuditHandlers.export),

        Route(method: "GET", pattern: "/campaigns", permission: .role(.viewer), action: "campaign.list", handler: CampaignHandlers.list),
        Route(method: "POST", pattern: "/campaigns", permission: .role(.admin), action: "campaign.start", handler: CampaignHandlers.start),
        Route(method: "POST", pattern: "/campaigns/dry-run", permission: .role(.admin), action: "campaign.dry_run", handler: CampaignHandlers.dryRun),
        Route(method: "GET", pattern: "/campaigns/{id}", permission: .role(.viewer), action: "campaign.read", handler: CampaignHandlers.show),
        Route(method: "GET", pattern: "/campaigns/{id}/devices", permission: .role(.viewer), action: "campaign.devices", handler: CampaignHandlers.devices),
        Route(method: "POST", pattern: "/campaigns/{id}/pause", permission: .role(.admin), action: "campaign.pause", handler: CampaignHandlers.pause),
        Route(method: "POST", pattern: "/campaigns/{id}/resume", permission: .role(.admin), action: "campaign.resume", handler: CampaignHandlers.resume),
        Route(method: "POST", pattern: "/campaigns/{id}/cancel", permission: .role(.admin), action: "campaign.cancel", handler: CampaignHandlers.cancel),
        Route(method: "GET", pattern: "/campaign-scripts", permission: .role(.viewer), action: "campaign.scripts", handler: CampaignHandlers.library),
        // Library reports: viewer. An ad-hoc `script` needs admin, checked in the handler (it depends on the body).
        Route(method: "GET", pattern: "/reports", permission: .role(.viewer), action: "report.list", handler: ReportHandlers.library),
        Route(method: "POST", pattern: "/reports/run", permission: .role(.viewer), action: "report.run", handler: ReportHandlers.run),

        Route(method: "GET", pattern: "/preprovisioning", permission: .role(.viewer), action: "preprovisioning.list", handler: PreprovisionHandlers.list),
        Route(method: "POST", pattern: "/preprovisioning/import", permission: .role(.admin), action: "preprovisioning.import", handler: PreprovisionHandlers.importCSV),
        Route(method: "GET", pattern: "/preprovisioning/export", permission: .role(.admin), action: "preprovisioning.export", handler: PreprovisionHandlers.export),
        Route(method: "DELETE", pattern: "/preprovisioning/{serial}", permission: .role(.admin), action: "preprovisioning.delete", handler: PreprovisionHandlers.delete),
    ]
}
