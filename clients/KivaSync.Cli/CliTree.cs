using System.CommandLine;
using System.CommandLine.Invocation;
using Scl = System.CommandLine;

namespace KivaSync.Cli;

/// <summary>
/// <see cref="Commands.All"/> as a System.CommandLine tree: "dead-letters list" is the command "list" under the
/// group "dead-letters", so "kivasync dead-letters --help" lists the group's commands. Help is the CLI's own text
/// (usage, options, exit codes); --version, typo suggestions and the [suggest] directive (tab completion) are
/// System.CommandLine's.
/// </summary>
internal sealed class CliTree
{
    private readonly Dictionary<Scl.Command, (Command Command, CliSyntax.Leaf Leaf)> leaves = [];

    /// <param name="run">Runs a parsed command.</param>
    /// <param name="withFiles">False builds the tree without file arguments, so an unknown word stays unmatched (typo hints).</param>
    public CliTree(Func<Command, ParsedArgs, CancellationToken, Task<int>> run, bool withFiles = true)
    {
        Root = new RootCommand("kivasync — operate KivaSync: set up a tenant, check a log, watch a backfill, find and retry failures.");
        CommandLineConventions.Apply(Root, typeof(CliTree).Assembly, new HelpAction(this));
        foreach (var command in Commands.All)
        {
            var words = command.Name.Split(' ');
            Scl.Command parent = Root;
            foreach (var group in words[..^1])
            {
                parent = parent.Subcommands.FirstOrDefault(c => c.Name == group) ?? Add(parent, new Scl.Command(group, $"{group} commands"));
            }

            var sclCommand = Add(parent, new Scl.Command(words[^1], command.Summary));
            var leaf = CliSyntax.AddOptions(sclCommand, [.. command.Options, .. CliApp.CommonOptions], withFiles ? command.Files : null);
            leaves[sclCommand] = (command, leaf);
            sclCommand.SetAction((result, ct) => run(command, new ParsedArgs(result, leaf), ct));
        }
    }

    /// <summary>The root command "kivasync".</summary>
    public RootCommand Root { get; }

    /// <summary>The CLI command a System.CommandLine command runs; null for the root and groups.</summary>
    public Command? LeafOf(Scl.Command command) => leaves.TryGetValue(command, out var leaf) ? leaf.Command : null;

    /// <summary>The words that name <paramref name="command"/> after "kivasync" ([] for the root).</summary>
    public IReadOnlyList<string> PathOf(Scl.Command command)
    {
        var words = new List<string>();
        for (Symbol? at = command; at is Scl.Command c && !ReferenceEquals(c, Root); at = c.Parents.FirstOrDefault())
        {
            words.Insert(0, c.Name);
        }

        return words;
    }

    private static Scl.Command Add(Scl.Command parent, Scl.Command child)
    {
        parent.Subcommands.Add(child);
        return child;
    }

    /// <summary>--help: the CLI's help for the root, a group or a command.</summary>
    internal sealed class HelpAction(CliTree tree) : SynchronousCommandLineAction
    {
        // Help is shown even when the rest of the line has mistakes, as System.CommandLine's own help is.
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var command = parseResult.CommandResult.Command;
            var text = tree.LeafOf(command) is { } leaf ? CliApp.CommandHelp(leaf)
                : ReferenceEquals(command, tree.Root) ? CliApp.MainHelp()
                : CliApp.GroupHelp(string.Join(' ', tree.PathOf(command)));
            parseResult.InvocationConfiguration.Output.Write(text);
            return ExitCodes.Ok;
        }
    }
}
