using KivaSync.SyncService.Hosting;

return SyncServer.Run(args);
