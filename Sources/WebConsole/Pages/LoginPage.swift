/// The only page served without a session.
enum LoginPage {
    static func render(error: String? = nil, user: String = ConsoleCredentials.userName) -> HTML {
        let body: HTML = """
            <main class="login"><h1>Moat console</h1>
            \(error.map { Layout.render(.error($0)) } ?? "")
            <form method="post" action="/login" class="box">
            <label>User name <input name="user" value="\(user)" autocomplete="username" required></label>
            <label>Password <input name="password" type="password" autocomplete="current-password" required autofocus></label>
            <button>Log in</button>
            </form>
            <p>First login: the password is in <code>VarDir/console/initial-password</code> (root only);
            set your own with <code>moat-ctl console-password</code>.</p></main>
            """
        return Layout.document(title: "Log in", body: body)
    }
}
