// Boots GraphiQL with the explorer plugin. Strawberry's inline script (MIT) moved to a
// file for the CSP, less its js-cookie CSRF header (Laurel uses no cookies).
"use strict";

const EXAMPLE_QUERY = `# Welcome to Laurel's GraphiQL
#
# Type a query on this side; the schema drives autocompletion (Ctrl-Space) and the
# Docs and Explorer panels on the left. Run it with Ctrl-Enter or the play button.
# Put credentials in the Headers tab, e.g. {"Authorization": "Bearer <token or key>"}.
#
{
  leaderboard(first: 5) {
    totalMembers
    entries { rank score member { displayName } }
  }
}
`;

// The URL keeps the query and variables, so a link shares them.
const parameters = {};
for (const entry of window.location.search.slice(1).split("&")) {
  const eq = entry.indexOf("=");
  if (eq >= 0) {
    parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(entry.slice(eq + 1));
  }
}

function updateURL(data) {
  Object.assign(parameters, data);
  const search = Object.keys(parameters)
    .filter((key) => Boolean(parameters[key]))
    .map((key) => `${encodeURIComponent(key)}=${encodeURIComponent(parameters[key])}`)
    .join("&");
  history.replaceState(null, "", `?${search}`);
}

const fetchURL = window.location.href.split("?")[0];

function webSocketURL(url) {
  const parsed = new URL(url);
  parsed.protocol = parsed.protocol === "http:" ? "ws:" : "wss:";
  parsed.hash = "";
  return parsed.toString();
}

const fetcher = GraphiQL.createFetcher({
  url: fetchURL,
  headers: {},
  subscriptionUrl: webSocketURL(fetchURL),
});

function GraphiQLWithExplorer() {
  const [query, setQuery] = React.useState(parameters.q || EXAMPLE_QUERY);
  const [variables, setVariables] = React.useState(parameters.variables);
  const [headers, setHeaders] = React.useState(parameters.headers);
  const explorerPlugin = GraphiQLPluginExplorer.explorerPlugin();

  return React.createElement(GraphiQL, {
    fetcher,
    defaultEditorToolsVisibility: true,
    plugins: [explorerPlugin],
    query,
    variables,
    headers,
    onEditQuery(newQuery) {
      setQuery(newQuery);
      updateURL({ q: newQuery });
    },
    onEditVariables(newVariables) {
      setVariables(newVariables);
      updateURL({ variables: newVariables });
    },
    onEditHeaders: setHeaders,
    inputValueDeprecation: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQLWithExplorer),
);
