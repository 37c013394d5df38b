using System.IO.Compression;
using Grpc.Net.Compression;

namespace KivaSync.Shipper;

/// <summary>
/// gzip for request messages at the fastest level, behind a buffer: protobuf writes a batch in many small pieces,
/// and deflating each piece on its own costs several times the CPU of deflating the whole message.
/// </summary>
internal sealed class BufferedGzipProvider : ICompressionProvider
{
    public string EncodingName => "gzip";

    public Stream CreateCompressionStream(Stream stream, CompressionLevel? compressionLevel) =>
        new BufferedStream(new GZipStream(stream, compressionLevel ?? CompressionLevel.Fastest, leaveOpen: true), 64 * 1024);

    public Stream CreateDecompressionStream(Stream stream) => new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
}
