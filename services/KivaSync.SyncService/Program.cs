using KivaSync.SyncService.Hosting;

var app = SyncServer.Create(args);
app.Run();
