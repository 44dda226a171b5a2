import Engine
import ACSCore
import API
import ArgumentParser
import Foundation
import HTTPAuth
import Storage

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage REST API users and tokens.",
                                                    subcommands: [Add.self, Token.self, ResetTwoFactor.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user. The password is read from stdin with --password-stdin, else generated and printed once.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Username (letters, digits, . _ @ -).") var username: String
        @Option(help: "viewer, operator, admin or superadmin.") var role: String = "admin"
        @Option(name: .customLong("organisation-id"), help: "Organisation ID (1 = root).") var organisationID: Int64 = Organisation.rootID
        @Flag(name: .customLong("password-stdin"), help: "Read the password (10+ characters) from the first line of stdin.") var passwordStdin = false

        func run() async throws {
            guard let role = Role(rawValue: role) else { throw ValidationError("role must be viewer, operator, admin or superadmin") }
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            var password = Secrets.generatedPassword()
            if passwordStdin {
                guard let line = readLine(strippingNewline: true) else { throw ValidationError("no password on stdin") }
                password = line
            }
            do {
                let u = try await AccountBootstrap.addUser(store: s, username: username, password: password, role: role, organisationID: organisationID)
                print("user \(u.username) (id \(u.id)), role \(u.role.rawValue), organisation \(u.organisationID)")
                if !passwordStdin { print("password: \(password)") }
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    struct ResetTwoFactor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-2fa",
            abstract: "Turn off a user's two-factor authentication (lost phone and recovery codes) and sign the user out everywhere.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The user.") var username: String

        func run() async throws {
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            guard let user = try s.user(username: username) else { throw ValidationError("no user \(username)") }
            try await s.removeTwoFactor(userID: user.id)
            try await s.deleteSessions(userID: user.id)
            try await s.appendAudit(AuditEntry(at: Int64(Date().timeIntervalSince1970), actor: "cli", userID: nil, tokenID: nil, remote: "",
                                               organisationID: user.organisationID, action: "user.reset-2fa", objectType: "user",
                                               objectID: String(user.id), before: nil, after: "{\"two_factor\":\"reset\"}", status: 204))
            print("two-factor authentication of \(user.username) is off; its sessions are signed out")
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API token for a user and print it (shown once).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The user the token acts for.") var username: String
        @Option(help: "Token name.") var name = "cli"
        @Option(help: "Role (capped at the user's).") var role = "admin"
        @Option(help: "Days until it expires (at most 90 for superadmin, 180 for admin, 365 for operator and viewer).") var days = 30

        func run() async throws {
            guard let role = Role(rawValue: role) else { throw ValidationError("role must be viewer, operator, admin or superadmin") }
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            do {
                print(try await AccountBootstrap.addToken(store: s, username: username, name: name, role: role, days: days))
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }
}
