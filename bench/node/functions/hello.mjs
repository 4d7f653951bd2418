// The Node.js hello-world: no imports, no init; the floor of the Node.js runtime itself.
export async function handler(event, context) {
  return { message: 'hello', request_id: context.awsRequestId };
}
