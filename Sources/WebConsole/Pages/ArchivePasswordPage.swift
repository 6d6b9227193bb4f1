import MailD

/// The password of a repacked message's archive, from the identifier in its
/// `X-Moat-Archive-Id` header.
enum ArchivePasswordPage {
    static func render(archiveId: String = "", result: Result<String, ArchivePassword.RecoveryFailure>? = nil,
                       csrf: String) -> HTML {
        var answer: HTML = ""
        var notice: Notice?
        switch result {
        case .success(let password)?:
            answer = "<p>Password of <code>\(archiveId)</code>:</p><p><code class=\"password\" id=\"password\">\(password)</code></p>"
        case .failure(let failure)?:
            notice = .error(failure.description)
        case nil:
            break
        }
        let content: HTML = """
            <p>With <code>RepackPassword = HMAC(secret)</code> each archive's password is derived from the secret and
            the archive identifier (the message's <code>X-Moat-Archive-Id</code> header), as
            <code>moat-ctl repack-password</code> does.</p>
            <form method="post" action="/archive-password" class="box">
            <input type="hidden" name="csrf" value="\(csrf)">
            <label>Archive identifier <input name="archive_id" value="\(archiveId)" placeholder="moat-..." required></label>
            <button>Show the password</button>
            </form>\(answer)
            """
        return Layout.page(title: "Archive password", path: "/archive-password", csrf: csrf, notice: notice, content: content)
    }
}
