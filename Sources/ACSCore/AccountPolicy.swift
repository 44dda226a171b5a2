/// Rules for operator accounts that the API, the CLI and the first-start bootstrap share. Pure.
public enum AccountPolicy {
    /// Longest lifetime of an API token, by the role it carries: the more it may do, the sooner it must be renewed.
    /// Tokens that never expire are not issued any more.
    public static func maxTokenDays(_ role: Role) -> Int {
        switch role {
        case .superadmin: 90
        case .admin: 180
        case .operator, .viewer: 365
        }
    }

    /// Why `password` is refused for `username`, or nil when it is acceptable: 10–256 characters, not built on the
    /// username or the product name, not one character or a keyboard/digit run repeated, not a well-known password.
    public static func passwordProblem(_ password: String, username: String) -> String? {
        guard password.count >= 10, password.count <= 256 else { return "passwords must be 10-256 characters" }
        let lower = password.lowercased()
        let user = username.lowercased()
        if user.count >= 3, lower.contains(user) { return "the password must not contain the username" }
        if Set(lower).count < 4 { return "the password uses fewer than 4 different characters" }
        // Strip digits and symbols at the ends ("Password2024!" is "password") and look the core up.
        let core = String(lower.drop(while: { !$0.isLetter }).reversed().drop(while: { !$0.isLetter }).reversed())
        if commonWords.contains(core) || commonPasswords.contains(lower) { return "the password is too common; choose a less guessable one" }
        if isRun(lower) { return "the password is a keyboard or digit sequence" }
        return nil
    }

    /// True for text that walks a row of the keyboard or the digits, forwards or backwards ("qwertyuiop", "0987654321").
    static func isRun(_ s: String) -> Bool {
        let rows = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz", "qwertzuiop", "azertyuiop"]
        let chars = Array(s)
        var inRun = 0
        for i in 1..<chars.count {
            let pair = String([chars[i - 1], chars[i]])
            if rows.contains(where: { $0.contains(pair) || String($0.reversed()).contains(pair) }) { inRun += 1 }
        }
        return inRun >= chars.count - 2
    }

    /// Words that make up most leaked passwords once digits and symbols are stripped from their ends.
    static let commonWords: Set<String> = [
        "password", "passwort", "passw0rd", "p@ssw0rd", "p@ssword", "qwerty", "letmein", "welcome", "admin", "administrator",
        "iloveyou", "monkey", "dragon", "football", "baseball", "sunshine", "princess", "master", "shadow", "superman",
        "trustno", "starwars", "whatever", "changeme", "secret", "default", "corral", "router", "modem", "internet",
        "wifi", "system", "root", "toor", "test", "guest", "user", "login", "access", "computer", "michael", "jennifer",
        "summer", "winter", "spring", "autumn", "freedom", "batman", "charlie", "passpass", "abc", "qwertz", "azerty",
    ]

    /// Long passwords that keep appearing in breach corpora and are not caught by the rules above.
    static let commonPasswords: Set<String> = [
        "1q2w3e4r5t", "1q2w3e4r5t6y", "q1w2e3r4t5", "1qaz2wsx3edc", "zaq12wsxcde3", "qazwsxedcrfv", "1234qwer!@#$",
        "passwordpassword", "iloveyou123", "qwerty123456", "password1234", "abcd1234efgh", "a1b2c3d4e5", "a1b2c3d4e5f6",
        "11223344556677", "1122334455", "aa123456789", "123456789a", "123456789q", "0123456789a",
    ]
}
