/// The meeting page served at `/` with its script (`/client.js`) and style (`/client.css`):
/// plain HTML and JavaScript, no build step, no CDN. It is the reference client of
/// docs/signaling.md: token → WebSocket → publisher connection (camera and microphone) →
/// subscriber connection offered by the server → remote videos. Nothing is inline, so the page
/// runs under a CSP that allows scripts from this server only (`contentSecurityPolicy`), and
/// the token comes in the URL fragment (`/#token=…`), which browsers never send to a server.
enum WebClient {
    /// No inline script or style, no frames, no plugins, no other origin; media from the
    /// camera and the peer connections only.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        + "media-src 'self' blob: mediastream:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shihui 视会</title>
<link rel="stylesheet" href="/client.css">
</head>
<body>
<h1>Shihui 视会</h1>
<div id="join">
  <input id="token" placeholder="access token (shihui-server token --room R --identity I --publish --subscribe)">
  <button id="joinButton">Join</button>
  <button id="leaveButton" disabled>Leave</button>
</div>
<div id="status">not connected</div>
<div id="people"></div>
<div id="videos"></div>
<script src="/client.js"></script>
</body>
</html>
"""#

    static let script = #"""
"use strict";
const params = new URLSearchParams(location.search);
// The token travels in the fragment (never sent to a server, kept out of logs and referrers)
// and is wiped from the address bar at once.
const fragment = new URLSearchParams(location.hash.slice(1));
const linkToken = fragment.get("token");
if (location.hash) history.replaceState(null, "", location.pathname + location.search);
const $ = id => document.getElementById(id);
const config = { iceServers: [], bundlePolicy: "max-bundle" };
let ws, publisher, subscriber, statsTimer;
const people = new Map();

function status(text) { $("status").textContent = text; }

function send(message) { ws.send(JSON.stringify(message)); }

function showPeople() {
  $("people").textContent = "In the room: " + [...people.values()].map(p => p.name + (p.tracks.length ? " (" + p.tracks.map(t => t.kind).join(", ") + ")" : "")).join(" · ");
}

function tile(id, label) {
  let t = document.getElementById("tile-" + id);
  if (!t) {
    t = document.createElement("div");
    t.className = "tile";
    t.id = "tile-" + id;
    t.innerHTML = "<video autoplay playsinline></video><span></span>";
    t.querySelector("span").textContent = label;
    $("videos").appendChild(t);
  }
  return t.querySelector("video");
}

async function join(token) {
  const local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
  const me = tile("local", "me");
  me.muted = true;
  me.srcObject = local;
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/rtc?access_token=" + encodeURIComponent(token));
  ws.onclose = e => { status("disconnected: " + (e.reason || e.code)); cleanup(); };
  ws.onmessage = async e => {
    const m = JSON.parse(e.data);
    switch (m.type) {
    case "joined":
      status("joined room " + m.room.name + " as " + m.participant.name);
      for (const p of m.participants) people.set(p.identity, p);
      showPeople();
      await publish(local);
      break;
    case "participant_joined": case "participant_updated":
      people.set(m.participant.identity, m.participant); showPeople(); break;
    case "participant_left":
      people.delete(m.identity); showPeople();
      document.querySelectorAll("[id^='tile-" + m.identity + "']").forEach(t => t.remove());
      break;
    case "answer":
      await publisher.setRemoteDescription({ type: "answer", sdp: m.sdp }); break;
    case "offer":
      await answerSubscriber(m.sdp); break;
    case "leave":
      status("left: " + m.reason); break;
    case "error":
      status("error " + m.code + ": " + m.message); break;
    }
  };
  $("joinButton").disabled = true;
  $("leaveButton").disabled = false;
  if (params.get("autotest")) statsTimer = setInterval(report, 1000);
}

async function publish(stream) {
  publisher = new RTCPeerConnection(config);
  for (const track of stream.getTracks()) publisher.addTrack(track, stream);
  await publisher.setLocalDescription(await publisher.createOffer());
  send({ type: "offer", target: "publisher", sdp: publisher.localDescription.sdp });
}

async function answerSubscriber(sdp) {
  if (!subscriber) {
    subscriber = new RTCPeerConnection(config);
    subscriber.ontrack = e => {
      if (e.track.kind !== "video") {
        const audio = new Audio();
        audio.srcObject = new MediaStream([e.track]);
        audio.play().catch(() => {});
        return;
      }
      const owner = e.streams[0] ? e.streams[0].id : e.track.id;
      tile(owner + "-video", (people.get(owner) || { name: owner }).name).srcObject = new MediaStream([e.track]);
    };
  }
  await subscriber.setRemoteDescription({ type: "offer", sdp });
  await subscriber.setLocalDescription(await subscriber.createAnswer());
  send({ type: "answer", target: "subscriber", sdp: subscriber.localDescription.sdp });
}

async function report() {
  const out = { framesDecoded: 0, videoBytes: 0, audioPackets: 0, audioSamples: 0, sentFrames: 0 };
  if (subscriber) {
    (await subscriber.getStats()).forEach(s => {
      if (s.type === "inbound-rtp" && s.kind === "video") { out.framesDecoded += s.framesDecoded || 0; out.videoBytes += s.bytesReceived || 0; }
      if (s.type === "inbound-rtp" && s.kind === "audio") { out.audioPackets += s.packetsReceived || 0; out.audioSamples += s.totalSamplesReceived || 0; }
    });
  }
  if (publisher) (await publisher.getStats()).forEach(s => { if (s.type === "outbound-rtp" && s.kind === "video") out.sentFrames += s.framesEncoded || 0; });
  console.log("SHIHUI-STATS " + JSON.stringify(out));
}

function cleanup() {
  clearInterval(statsTimer);
  if (publisher) publisher.close();
  if (subscriber) subscriber.close();
  publisher = subscriber = null;
  $("joinButton").disabled = false;
  $("leaveButton").disabled = true;
}

$("joinButton").onclick = () => join($("token").value.trim()).catch(e => status("error: " + e));
$("leaveButton").onclick = () => { send({ type: "leave" }); };
if (linkToken) { $("token").value = linkToken; join(linkToken).catch(e => status("error: " + e)); }
else if (params.get("token")) status("pass the token after # (/#token=…), not in the query string");
"""#

    static let css = #"""
  body { font-family: system-ui, sans-serif; margin: 1rem; background: #111; color: #eee; }
  #join { display: flex; gap: .5rem; margin-bottom: 1rem; }
  #token { flex: 1; }
  #videos { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: .5rem; }
  video { width: 100%; background: #000; border-radius: 6px; }
  .tile { position: relative; }
  .tile span { position: absolute; left: .5rem; bottom: .5rem; background: #0008; padding: 0 .4rem; border-radius: 4px; }
  #status { color: #9c9; margin: .5rem 0; }
"""#
}
