// job-gateway's GraphiQL: the vendored GraphiQL, React and explorer plugin (no CDN),
// opened on the example operations of schema/operations/, one tab each, the first
// one (a working query on the demo domain) selected; subscriptions over WebSocket.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var tabs = config.examples.map(function (example) {
    return {
      query: "# " + example.name + ": " + example.description + "\n" + example.query,
      variables: JSON.stringify(example.variables, null, 2),
    };
  });
  // Subscriptions go over WebSocket to the same path (graphql-transport-ws, with the
  // graphql-ws client GraphiQL bundles); the headers editor's headers (Authorization)
  // travel in connection_init.
  var socket = (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host;
  var fetcher = GraphiQL.createFetcher({
    url: window.location.pathname,
    subscriptionUrl: socket + window.location.pathname,
  });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: tabs,
      // GraphiQL 4 fills the editors of the open tab from these, not from its defaultTabs
      // entry (whose variables it would leave empty).
      query: tabs[0].query,
      variables: tabs[0].variables,
      defaultEditorToolsVisibility: "variables",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    })
  );
})();
