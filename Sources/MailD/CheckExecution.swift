/// The executor a check runs on, for the tasks the check starts itself (sender
/// authentication runs beside the scan as a task of its own). A front-end that checks a small
/// message on its connection's event loop (`Task(executorPreference:)`) binds it here, so
/// that those tasks stay on that thread too instead of waking the cooperative pool and back.
public enum CheckExecution {
    @TaskLocal public static var executor: (any TaskExecutor)?
}
