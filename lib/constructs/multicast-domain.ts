/**
 * A Transit Gateway with multicast support, attached to one subnet per AZ, and its multicast domain:
 * the subnets associated, static sources (the virtual routers' ENIs) registered for every group, and
 * routes from the subnets to on-premises networks through the gateway. Members (the receivers' ENIs)
 * are registered with `addMember`. What AWS cannot provision (GRE tunnels, PIM, static IGMP joins on
 * the virtual router) is the on-premises runbook in docs/feed-handler.md.
 */
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { Area } from './area';

/** `A` for us-east-1a: names the per-AZ resources (AZ names end in their letter). */
export const azLetter = (az: string): string => az.slice(-1).toUpperCase();

export interface MulticastDomainProps {
  readonly vpc: ec2.IVpc;
  /** The subnets associated with the domain, at most one per AZ; the VPC attachment spans them. */
  readonly subnets: readonly ec2.ISubnet[];
  /** Multicast group addresses the members receive and the static sources send. */
  readonly groups: readonly string[];
  /**
   * Hosts join and leave groups by IGMPv2 (AWS does not allow it together with static sources).
   * @default false (membership is static only)
   */
  readonly igmpv2?: boolean;
  /**
   * ENIs registered as the static sources of every group; they must sit in an associated subnet.
   * @default none (static sources disabled: any host in the associated subnets may send)
   */
  readonly staticSourceEnis?: readonly string[];
  /**
   * Networks reached through the gateway from the associated subnets' route tables.
   * @default none
   */
  readonly onPremisesCidrs?: readonly string[];
  /** @default a description naming market data multicast */
  readonly description?: string;
}

export class MulticastDomain extends Area {
  readonly transitGateway: ec2.CfnTransitGateway;
  readonly attachment: ec2.CfnTransitGatewayAttachment;
  readonly domain: ec2.CfnTransitGatewayMulticastDomain;
  readonly groups: readonly string[];
  /** The association of each subnet, by subnet id. */
  private readonly associations = new Map<string, ec2.CfnTransitGatewayMulticastDomainAssociation>();

  constructor(scope: Construct, id: string, props: MulticastDomainProps) {
    super(scope, id);
    const { stackName } = Stack.of(this);
    const sources = props.staticSourceEnis ?? [];
    this.groups = props.groups;
    this.transitGateway = new ec2.CfnTransitGateway(this, 'TransitGateway', {
      description: props.description ?? 'Market data multicast (CME MDP 3.0 feeds A/B) to the feed handlers',
      multicastSupport: 'enable',
      autoAcceptSharedAttachments: 'disable',
      defaultRouteTableAssociation: 'enable',
      defaultRouteTablePropagation: 'enable',
      dnsSupport: 'enable',
      vpnEcmpSupport: 'enable',
      tags: [{ key: 'Name', value: `${stackName}-multicast` }],
    });
    this.attachment = new ec2.CfnTransitGatewayAttachment(this, 'VpcAttachment', {
      transitGatewayId: this.transitGateway.attrId,
      vpcId: props.vpc.vpcId,
      subnetIds: props.subnets.map((s) => s.subnetId),
      tags: [{ key: 'Name', value: `${stackName}-feed-vpc` }],
    });
    // AWS: IGMPv2 and static sources exclude each other. Static members work with either.
    this.domain = new ec2.CfnTransitGatewayMulticastDomain(this, 'MulticastDomain', {
      transitGatewayId: this.transitGateway.attrId,
      options: {
        Igmpv2Support: props.igmpv2 ? 'enable' : 'disable',
        StaticSourcesSupport: sources.length > 0 ? 'enable' : 'disable',
        AutoAcceptSharedAssociations: 'disable',
      },
      tags: [{ key: 'Name', value: `${stackName}-feeds` }],
    });
    for (const s of props.subnets) {
      const association = new ec2.CfnTransitGatewayMulticastDomainAssociation(
        this,
        `DomainAssociation${azLetter(s.availabilityZone)}`,
        {
          transitGatewayMulticastDomainId: this.domainId,
          transitGatewayAttachmentId: this.attachment.attrId,
          subnetId: s.subnetId,
        },
      );
      this.associations.set(s.subnetId, association);
      // Unicast to on-premises (TCP replay, the GRE peers) goes through the Transit Gateway too.
      (props.onPremisesCidrs ?? []).forEach((cidr, j) => {
        new ec2.CfnRoute(this, `OnPremRoute${azLetter(s.availabilityZone)}${j}`, {
          routeTableId: s.routeTable.routeTableId,
          destinationCidrBlock: cidr,
          transitGatewayId: this.transitGateway.attrId,
        }).addResourceDependency(this.attachment);
      });
    }
    sources.forEach((eniId, r) => {
      for (const [g, group] of this.groups.entries()) {
        const source = new ec2.CfnTransitGatewayMulticastGroupSource(this, `Source${r}x${g}`, {
          transitGatewayMulticastDomainId: this.domainId,
          groupIpAddress: group,
          networkInterfaceId: eniId,
        });
        for (const a of this.associations.values()) source.addResourceDependency(a);
      }
    });
  }

  get domainId(): string {
    return this.domain.attrTransitGatewayMulticastDomainId;
  }

  /**
   * Registers an ENI in one of the associated subnets as a static member of every group, once that
   * subnet is in the domain. `name` tells its registrations apart.
   * @default name the subnet's AZ letter (one member per subnet)
   */
  addMember(
    eni: ec2.CfnNetworkInterface,
    subnet: ec2.ISubnet,
    name = azLetter(subnet.availabilityZone),
  ): void {
    const association = this.associations.get(subnet.subnetId);
    if (!association)
      throw new Error(`MulticastDomain.addMember: ${subnet.subnetId} is not an associated subnet`);
    for (const [g, group] of this.groups.entries()) {
      new ec2.CfnTransitGatewayMulticastGroupMember(this, `Member${name}${g}`, {
        transitGatewayMulticastDomainId: this.domainId,
        groupIpAddress: group,
        networkInterfaceId: eni.attrId,
      }).addResourceDependency(association);
    }
  }
}
