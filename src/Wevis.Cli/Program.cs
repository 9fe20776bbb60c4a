using System.CommandLine;
using Wevis.Cli.Commands;

// wevis: a command-line client for any Wevis server, speaking its protocol from its .wevis definitions.
var root = new RootCommand("wevis: check .wevis definitions, and talk to or load-test any Wevis server from its definitions.")
{
    CheckCommand.Create(),
    SendCommand.Create(),
    ConnectCommand.Create(),
    LoadCommand.Create(),
};

return await root.Parse(args).InvokeAsync();
