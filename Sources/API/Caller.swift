import ACSCore

/// The authenticated party of a request: a user through a login session or a bearer token. Its reach is one
/// organisation subtree at one role.
struct Caller: Sendable {
    var user: UserAccount
    var token: APIToken?
    var organisation: Organisation
    var role: Role
    /// Set for cookie sessions: state-changing requests must echo it in X-CSRF-Token.
    var csrf: String?
    var sessionHash: String?
    /// A login session of an admin whose organisation requires two-factor, not enrolled yet: only the account page
    /// and the enrolment calls answer until it is.
    var mustEnrolTwoFactor = false

    /// Who, as written to the audit log.
    var actor: String { token.map { "\(user.username) (token \($0.name))" } ?? user.username }

    /// True if an object of the organisation with this path is inside the caller's subtree.
    func sees(_ organisationPath: String) -> Bool { organisationPath.hasPrefix(organisation.path) }
    func has(_ r: Role) -> Bool { role >= r }
}
